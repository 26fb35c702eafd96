#!/usr/bin/env bash
# demo.sh: the README's `make demo`, on 2 CPU cores in about 3.5 minutes.
#  1-3: SFT end to end: a 4M-parameter LLaMA-architecture model (testdata/configs/
#       dict-small.json) learns to answer "What does X mean?" questions from the bundled
#       WordNet/FOLDOC dataset, starting from random weights; validation perplexity is
#       printed before, during and after training.
#  4:   L3M: the bundled pre-trained model (testdata/models/dict-base) is fine-tuned under
#       the requirement "mean response length between 25 and 60 tokens"; the mean length of
#       its answers to held-out prompts is measured before and after.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=bin/l3m-engine
out=${DEMO_OUT:-out/demo}
data=testdata/data/dict_instruct.parquet
rm -rf "$out"
mkdir -p "$out"
start=$(date +%s)

echo "== 1/4 init: a new model with the bundled 4096-token BPE tokenizer"
$bin init --config testdata/configs/dict-small.json --tokenizer testdata/tokenizers/dict-bpe --seed 1 --out "$out/init"

echo "== 2/4 fit (SFT, 3 epochs): validation perplexity should fall from ~8.4 (uniform over 4096 tokens)"
$bin fit --model "$out/init" --train "$data" --out "$out/fit" --threads 2 \
  --epochs 3 --lr 3e-3 --batch-size 32 --micro-batch-size 16 --max-tokens 256 --eval-every 50 --save-every 50

echo "== 3/4 generate: three held-out style questions answered by the fine-tuned model"
$bin generate --model "$out/fit/final" --threads 2 --seed 1 --max-new-tokens 60 \
  --prompt "What does 'lantern' mean?" --prompt "Define compiler." --prompt "What is the meaning of the word \"harbor\"?" \
  --out "$out/samples.jsonl"
cat "$out/samples.jsonl"

# mean_length MODEL: mean length (tokens, EOS included) of sampled answers to the 160
# held-out prompts.
mean_length() {
  $bin generate --model "$1" --data "$data" --part val --seed 1 --batch-size 50 --threads 2 2>/dev/null |
    grep -o '"tokens":[0-9]*' | awk -F: '{s += $2; n++} END {printf "%.1f tokens over %d answers", s / n, n}'
}

echo "== 4/4 L3M: require 25 <= mean response length <= 60 tokens, starting from testdata/models/dict-base"
echo "before: $(mean_length testdata/models/dict-base)"
$bin fit --method l3m --model testdata/models/dict-base --train "$data" --out "$out/l3m" --threads 2 \
  --constraint 'length>=25' --constraint 'length<=60' --baseline --samples 32 --mu-end 0.5 \
  --lr 3e-4 --batch-size 16 --micro-batch-size 16 --max-tokens 256 --max-steps 150 --eval-every 75
echo "after:  $(mean_length "$out/l3m/final")"

echo
echo "demo finished in $(( $(date +%s) - start ))s. Outputs:"
echo "  model:        $out/fit/final   (Hugging Face format: config.json, model.safetensors, tokenizer.json)"
echo "  checkpoints:  $out/fit/checkpoint-*   (resume with: $bin fit ... --out $out/fit --resume)"
echo "  metrics:      $out/fit/metrics.jsonl   (per step; \"kind\":\"eval\" lines hold validation perplexity)"
echo "  samples:      $out/samples.jsonl"
echo "  L3M model:    $out/l3m/final   (metrics.jsonl: per step kind, mu, C_hat, lambda, reward means)"
