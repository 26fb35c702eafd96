// make.js derives this directory's tokenizer.json from ../llama2/tokenizer.json: the first
// 1500 ids (byte tokens included) and every single-character token, the merges among them, and the newer SentencePiece
// layout (no normalizer; a Metaspace pre-tokenizer with prepend_scheme "first" and split;
// a Metaspace decoder after ByteFallback) so that the Metaspace code paths have a golden.
//   node testdata/tokenizers/metaspace-tiny/make.js
const fs = require('fs');
const path = require('path');
const src = JSON.parse(fs.readFileSync(path.join(__dirname, '..', 'llama2', 'tokenizer.json'), 'utf8'));
const keep = 1500;
const vocab = Object.create(null);
for (const [tok, id] of Object.entries(src.model.vocab)) if (id < keep || [...tok].length === 1) vocab[tok] = id;
const merges = src.model.merges
  .map((m) => (typeof m === 'string' ? m.split(' ') : m))
  .filter(([a, b]) => a in vocab && b in vocab && (a + b) in vocab);
const out = {
  version: '1.0',
  truncation: null,
  padding: null,
  added_tokens: src.added_tokens,
  normalizer: null,
  pre_tokenizer: {type: 'Metaspace', replacement: '▁', prepend_scheme: 'first', split: true},
  post_processor: null,
  decoder: {type: 'Sequence', decoders: [
    {type: 'ByteFallback'},
    {type: 'Metaspace', replacement: '▁', prepend_scheme: 'first', split: true},
  ]},
  model: {...src.model, vocab, merges},
};
fs.writeFileSync(path.join(__dirname, 'tokenizer.json'), JSON.stringify(out, null, 1) + '\n');
console.log(`vocab ${Object.keys(vocab).length}, merges ${merges.length}`);
