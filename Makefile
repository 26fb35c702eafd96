# l3m-engine: `make test` and (once the trainer lands) `make demo` are all a fresh clone needs.
GO ?= go
export ONNXRUNTIME_LIB ?= $(CURDIR)/.cache/ort/libonnxruntime.so.1

.PHONY: all setup build test vet fmt bench generate data fuzz clean demo base

all: build

# setup fetches ONNX Runtime 1.31.1 (npm package onnxruntime-node, pinned sha256) into .cache/ort.
setup: .cache/ort/libonnxruntime.so.1

.cache/ort/libonnxruntime.so.1: tools/setup-ort.sh
	./tools/setup-ort.sh

build:
	$(GO) build -o bin/l3m-engine ./cmd/l3m-engine

# demo fine-tunes a small model on the bundled dataset end to end (a few minutes on 2 cores).
demo: setup build
	./tools/demo.sh

# base rebuilds testdata/models/dict-base, the small pre-trained model later tests start
# from: a random init of testdata/configs/dict-small.json fine-tuned for 8 epochs (~5 min).
base: setup build
	rm -rf out/base
	bin/l3m-engine init --config testdata/configs/dict-small.json --tokenizer testdata/tokenizers/dict-bpe --seed 1 --out out/base/init
	bin/l3m-engine fit --model out/base/init --train testdata/data/dict_instruct.parquet --out out/base/fit --threads 2 \
		--epochs 8 --lr 3e-3 --batch-size 32 --micro-batch-size 16 --max-tokens 256 --eval-every 100 --seed 1
	rm -rf testdata/models/dict-base && cp -r out/base/fit/final testdata/models/dict-base

test: setup
	$(GO) vet ./...
	@test -z "$$(gofmt -l $$(git ls-files '*.go' | grep -v '\.pb\.go$$'))" || { echo "gofmt needed:"; gofmt -l .; exit 1; }
	$(GO) test -count=1 -timeout 20m ./...
	$(MAKE) fuzz FUZZTIME=2000x

# fuzz runs every fuzz target briefly (FUZZTIME each); `make test` (and so CI) runs it with an
# execution-count budget: a duration budget races Go 1.26's fuzz coordinator at the deadline
# (go.dev/issue/75804) and fails with a bare "context deadline exceeded" on a loaded machine.
# Count budgets have no deadline, so only a real finding fails. `make fuzz` explores longer.
FUZZTIME ?= 200000x
FUZZ_TARGETS = ./data:FuzzSplitTranscript ./tokenize:FuzzChatTemplate ./tokenize:FuzzRoundTrip \
	./tokenize:FuzzSplitLlama3 ./engine/weights:FuzzReadHeader ./tools/mkdata:FuzzSplitSentences ./tools/mkdata:FuzzParseArticles \
	./rewards:FuzzParseConstraint ./rewards:FuzzParseRule
fuzz:
	@set -e; for t in $(FUZZ_TARGETS); do \
		pkg=$${t%%:*}; fn=$${t##*:}; \
		echo "fuzz $$pkg $$fn ($(FUZZTIME))"; \
		$(GO) test -run '^$$' -fuzz "^$$fn$$" -fuzztime $(FUZZTIME) $$pkg; \
	done

vet:
	$(GO) vet ./...

fmt:
	gofmt -w $$(git ls-files '*.go' | grep -v '\.pb\.go$$')

# bench runs the speed and memory benchmarks (see README); compare runs with benchstat.
# The data benchmarks generate a BENCH_BYTES Parquet file (default 1G) and read it once.
BENCH_BYTES ?= 1G
bench: setup
	L3M_BENCH_BYTES=$(BENCH_BYTES) $(GO) test -run '^$$' -bench . -benchtime 1x -timeout 60m ./data ./tokenize
	$(GO) test -run '^$$' -bench . -benchtime 3x -timeout 60m ./engine/... ./graphs/...

generate:
	$(GO) generate ./...

# data rebuilds the committed dataset in testdata/data from Debian's dict-wn and dict-foldoc
# (apt-get install dict-wn dict-foldoc) and the small BPE tokenizer trained on it.
data:
	$(GO) run ./tools/mkdata -out testdata/data
	$(GO) run ./tools/mktokenizer -data testdata/data/dict_instruct.jsonl -vocab 4096 -out testdata/tokenizers/dict-bpe

clean:
	rm -rf bin
