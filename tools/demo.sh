#!/usr/bin/env bash
# demo.sh: the README's `make demo`. A real fine-tuning run, end to end, on 2 CPU cores:
# a 4M-parameter LLaMA-architecture model (testdata/configs/dict-small.json) learns to
# answer "What does X mean?" questions from the bundled WordNet/FOLDOC dataset, starting
# from random weights. Validation perplexity is printed before, during and after training.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=bin/l3m-engine
out=${DEMO_OUT:-out/demo}
data=testdata/data/dict_instruct.parquet
rm -rf "$out"
mkdir -p "$out"
start=$(date +%s)

echo "== 1/3 init: a new model with the bundled 4096-token BPE tokenizer"
$bin init --config testdata/configs/dict-small.json --tokenizer testdata/tokenizers/dict-bpe --seed 1 --out "$out/init"

echo "== 2/3 fit (SFT, 3 epochs): validation perplexity should fall from ~8.4 (uniform over 4096 tokens)"
$bin fit --model "$out/init" --train "$data" --out "$out/fit" --threads 2 \
  --epochs 3 --lr 3e-3 --batch-size 32 --micro-batch-size 16 --max-tokens 256 --eval-every 50 --save-every 50

echo "== 3/3 generate: three held-out style questions answered by the fine-tuned model"
$bin generate --model "$out/fit/final" --threads 2 --seed 1 --max-new-tokens 60 \
  --prompt "What does 'lantern' mean?" --prompt "Define compiler." --prompt "What is the meaning of the word \"harbor\"?" \
  --out "$out/samples.jsonl"
cat "$out/samples.jsonl"

echo
echo "demo finished in $(( $(date +%s) - start ))s. Outputs:"
echo "  model:        $out/fit/final   (Hugging Face format: config.json, model.safetensors, tokenizer.json)"
echo "  checkpoints:  $out/fit/checkpoint-*   (resume with: $bin fit ... --out $out/fit --resume)"
echo "  metrics:      $out/fit/metrics.jsonl   (per step; \"kind\":\"eval\" lines hold validation perplexity)"
echo "  samples:      $out/samples.jsonl"
