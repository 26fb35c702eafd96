// split_golden.js writes split_golden.json: how Hugging Face tokenizers' Split pre-tokenizer,
// with the Llama 3 pattern of this directory's tokenizer.json, cuts each string of
// ../golden_cases.json and of 400 seeded random strings over characters that reach every
// alternative of the pattern. Each word is read from the offsets of an encoding by a
// WordLevel model whose vocabulary holds only its unk token, so every word is one token.
// tokenize.TestSplitLlama3MatchesHuggingFace compares splitLlama3 with it.
//   cd /tmp && npm install @anush008/tokenizers@0.6.0   # Rust tokenizers 0.22.2 via napi
//   NODE_PATH=/tmp/node_modules node testdata/tokenizers/llama3-tiny/split_golden.js
const fs = require('fs');
const path = require('path');
const {Tokenizer} = require('@anush008/tokenizers');

const llama3 = JSON.parse(fs.readFileSync(path.join(__dirname, 'tokenizer.json'), 'utf8'));
const split = llama3.pre_tokenizer.pretokenizers.find((p) => p.type === 'Split');
const tk = Tokenizer.fromString(JSON.stringify({
  version: '1.0', truncation: null, padding: null, added_tokens: [], normalizer: null,
  pre_tokenizer: split, post_processor: null, decoder: null,
  model: {type: 'WordLevel', vocab: {'[UNK]': 0}, unk_token: '[UNK]'},
}));

// mulberry32, so that the strings are the same on every run.
let seed = 20240418;
function random() {
  seed = (seed + 0x6d2b79f5) | 0;
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
const alphabet = [
  'a', 'Z', 'é', 's', 'S', 'ſ', 't', 'T', 'r', 'e', 'E', 'v', 'l', 'L', 'm', 'd', 'D', "'", "'",
  '1', '7', '٣', '²', '①', ' ', ' ', ' ', '\t', '\n', '\n', '\r', '\u000b', '\u00a0', '\u3000',
  '\u2028', '\u0085', '\u001c', '\u0000', '!', '.', '_', '(', '"', '😀', '\u0301', '\u200d', '中',
];
const texts = JSON.parse(fs.readFileSync(path.join(__dirname, '..', 'golden_cases.json'), 'utf8'));
for (let i = 0; i < 400; i++) {
  let s = '';
  for (let n = Math.floor(random() * 16) + 1; n > 0; n--) s += alphabet[Math.floor(random() * alphabet.length)];
  texts.push(s);
}

(async () => {
  const out = [];
  for (const text of texts) {
    const chars = Array.from(text); // offsets count code points
    const enc = await tk.encode(text, null, {addSpecialTokens: false});
    const words = enc.getOffsets().map(([start, end]) => chars.slice(start, end).join(''));
    if (words.join('') !== text) throw new Error(`words of ${JSON.stringify(text)} do not cover it: ${JSON.stringify(words)}`);
    out.push({text, words});
  }
  const generator = 'huggingface tokenizers 0.22.2 (npm @anush008/tokenizers 0.6.0)';
  // One case per line, invisible and combining characters escaped, keeps diffs readable.
  const line = (c) => JSON.stringify(c).replace(/[\u007f-\u00a0\u00ad\u0300-\u036f\u200b-\u200f\u2028-\u202f\u205f-\u206f\u3000\ufe00-\ufe0f\ufeff]/gu,
    (ch) => '\\u' + ch.codePointAt(0).toString(16).padStart(4, '0'));
  fs.writeFileSync(path.join(__dirname, 'split_golden.json'), `{"generator": ${JSON.stringify(generator)}, "cases": [\n` +
    out.map(line).join(',\n') + '\n]}\n');
  console.log(`split_golden.json: ${out.length} cases`);
})();
