// make.js derives this directory's tokenizer.json from ../dict-bpe/tokenizer.json in the
// layout of Llama 3's (Meta-Llama-3-8B, Llama 3.1 and 3.2): the 256 byte tokens and the
// first 700 merged tokens of dict-bpe renumbered from 0, the merges among them, a few whole
// words the merges cannot reach (which only ignore_merges emits as one token), Llama 3's
// Split pattern before a ByteLevel pre-tokenizer without regex, the ByteLevel decoder, and
// Llama 3.1's first special tokens as added tokens numbered after the vocabulary. No part
// of Meta's vocabulary is used.
//   node testdata/tokenizers/llama3-tiny/make.js
const fs = require('fs');
const path = require('path');
const src = JSON.parse(fs.readFileSync(path.join(__dirname, '..', 'dict-bpe', 'tokenizer.json'), 'utf8'));
const firstByte = src.added_tokens.length; // dict-bpe: special tokens, then the 256 bytes
const keep = firstByte + 256 + 700;
const vocab = Object.create(null);
for (const [tok, id] of Object.entries(src.model.vocab)) {
  if (id >= firstByte && id < keep) vocab[tok] = id - firstByte;
}
const merges = src.model.merges
  .map((m) => (typeof m === 'string' ? m.split(' ') : m))
  .filter(([a, b]) => a in vocab && b in vocab && (a + b) in vocab);
let next = Object.keys(vocab).length;
for (const word of ['Hello', 'Ġworld', 'Ġquick', 'Ġthere', 'Ġbutter', 'ĠLOUD']) {
  if (!(word in vocab)) vocab[word] = next++;
}
const special = [
  '<|begin_of_text|>', '<|end_of_text|>', '<|reserved_special_token_0|>', '<|reserved_special_token_1|>',
  '<|finetune_right_pad_id|>', '<|reserved_special_token_2|>', '<|start_header_id|>', '<|end_header_id|>',
  '<|eom_id|>', '<|eot_id|>', '<|python_tag|>',
];
const addedTokens = special.map((content, i) => ({
  id: next + i, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true,
}));
const pattern = "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
const bos = '<|begin_of_text|>';
const out = {
  version: '1.0',
  truncation: null,
  padding: null,
  added_tokens: addedTokens,
  normalizer: null,
  pre_tokenizer: {type: 'Sequence', pretokenizers: [
    {type: 'Split', pattern: {Regex: pattern}, behavior: 'Isolated', invert: false},
    {type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: false},
  ]},
  post_processor: {type: 'Sequence', processors: [
    {type: 'ByteLevel', add_prefix_space: true, trim_offsets: false, use_regex: true},
    {type: 'TemplateProcessing',
      single: [{SpecialToken: {id: bos, type_id: 0}}, {Sequence: {id: 'A', type_id: 0}}],
      pair: [{SpecialToken: {id: bos, type_id: 0}}, {Sequence: {id: 'A', type_id: 0}},
        {SpecialToken: {id: bos, type_id: 1}}, {Sequence: {id: 'B', type_id: 1}}],
      special_tokens: {[bos]: {id: bos, ids: [next], tokens: [bos]}}},
  ]},
  decoder: {type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true},
  model: {
    type: 'BPE', dropout: null, unk_token: null, continuing_subword_prefix: null, end_of_word_suffix: null,
    fuse_unk: false, byte_fallback: false, ignore_merges: true, vocab, merges,
  },
};
fs.writeFileSync(path.join(__dirname, 'tokenizer.json'), JSON.stringify(out, null, 1) + '\n');
const config = {
  bos_token: bos,
  eos_token: '<|eot_id|>',
  clean_up_tokenization_spaces: true,
  model_input_names: ['input_ids', 'attention_mask'],
  model_max_length: 131072,
  tokenizer_class: 'PreTrainedTokenizerFast',
};
fs.writeFileSync(path.join(__dirname, 'tokenizer_config.json'), JSON.stringify(config, null, 2) + '\n');
console.log(`vocab ${next}, merges ${merges.length}, added tokens ${special.length} from id ${next}`);
