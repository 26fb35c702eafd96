// make.js writes two hand-made tokenizers for the model types other than BPE:
// ./tokenizer.json (BERT layout: BertNormalizer, BertPreTokenizer, WordPiece model and
// decoder) and ../wordlevel-tiny/tokenizer.json (Whitespace pre-tokenizer, WordLevel).
//   node testdata/tokenizers/wordpiece-tiny/make.js
const fs = require('fs');
const path = require('path');

const specials = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]'];
const letters = 'abcdefghijklmnopqrstuvwxyz0123456789'.split('');
const punct = '.,!?\'"-:;()[]<>/|#&=_*+%'.split('');
const words = ['hello', 'world', 'the', 'quick', 'brown', 'fox', 'jump', 'over', 'lazy', 'dog',
  'can', 'believe', 'it', 'not', 'butter', 'we', 'see', 'they', 'here', 'cafe', 'naive', 'resume',
  'multiple', 'spaces', 'leading', 'trailing', 'tab', 'new', 'line', 'emoji', 'and', 'numbers',
  '日', '本', '語', '中', '文', '测', '试'];
const cont = ['##s', '##ing', '##ed', '##ly', '##er', '##able', '##ume', ...letters.map((c) => '##' + c)];

const vocab = {};
for (const t of [...specials, ...letters, ...punct, ...words, ...cont]) if (!(t in vocab)) vocab[t] = Object.keys(vocab).length;
const added = specials.map((content, id) => ({id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true}));

const wordpiece = {
  version: '1.0', truncation: null, padding: null, added_tokens: added,
  normalizer: {type: 'BertNormalizer', clean_text: true, handle_chinese_chars: true, strip_accents: null, lowercase: true},
  pre_tokenizer: {type: 'BertPreTokenizer'},
  post_processor: null,
  decoder: {type: 'WordPiece', prefix: '##', cleanup: true},
  model: {type: 'WordPiece', unk_token: '[UNK]', continuing_subword_prefix: '##', max_input_chars_per_word: 100, vocab},
};
fs.writeFileSync(path.join(__dirname, 'tokenizer.json'), JSON.stringify(wordpiece, null, 1) + '\n');

const wlVocab = {};
for (const t of ['<unk>', '<s>', '</s>', ...words, ...punct]) if (!(t in wlVocab)) wlVocab[t] = Object.keys(wlVocab).length;
const wordlevel = {
  version: '1.0', truncation: null, padding: null,
  added_tokens: ['<unk>', '<s>', '</s>'].map((content, id) => ({id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true})),
  normalizer: {type: 'Sequence', normalizers: [{type: 'NFKC'}, {type: 'Lowercase'}]},
  pre_tokenizer: {type: 'Whitespace'},
  post_processor: null,
  decoder: null,
  model: {type: 'WordLevel', vocab: wlVocab, unk_token: '<unk>'},
};
fs.writeFileSync(path.join(__dirname, '..', 'wordlevel-tiny', 'tokenizer.json'), JSON.stringify(wordlevel, null, 1) + '\n');
