// hf_golden.js writes hf_golden.json next to each tokenizer.json given on the command line:
// for every string in golden_cases.json, the ids Hugging Face tokenizers gives without
// special tokens, and the decodes that tokenize_test.go compares against.
//
// Regenerate (needs node and the npm registry; not part of go test):
//   cd /tmp && npm install @anush008/tokenizers@0.6.0   # Rust tokenizers 0.22.2 via napi
//   NODE_PATH=/tmp/node_modules node testdata/tokenizers/hf_golden.js testdata/tokenizers/llama2 ...
const fs = require('fs');
const path = require('path');
const {Tokenizer} = require('@anush008/tokenizers');

const cases = JSON.parse(fs.readFileSync(path.join(__dirname, 'golden_cases.json'), 'utf8'));

(async () => {
  for (const dir of process.argv.slice(2)) {
    const tk = Tokenizer.fromFile(path.join(dir, 'tokenizer.json'));
    const out = [];
    for (const text of cases) {
      const ids = (await tk.encode(text, null, {addSpecialTokens: false})).getIds();
      const half = ids.slice(0, Math.floor(ids.length / 2));
      out.push({
        text,
        ids,
        decoded: await tk.decode(ids, false),
        decoded_skip_special: await tk.decode(ids, true),
        half_ids: half,
        half_decoded: await tk.decode(half, false),
      });
    }
    const file = path.join(dir, 'hf_golden.json');
    const generator = "huggingface tokenizers 0.22.2 (npm @anush008/tokenizers 0.6.0)";
    // One case per line keeps diffs readable.
    fs.writeFileSync(file, `{"generator": ${JSON.stringify(generator)}, "cases": [\n` +
      out.map((c) => JSON.stringify(c)).join(",\n") + "\n]}\n");
    console.log(`${file}: ${out.length} cases`);
  }
})();
