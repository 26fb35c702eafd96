// Package tokenize turns text into model ids and back, as Hugging Face tokenizers would
// for the same tokenizer.json, and assembles chat examples into training sequences.
//
// # Loading
//
// Load reads a directory holding tokenizer.json, as Hugging Face publishes it: SentencePiece
// BPE with byte fallback and the Prepend/Replace normalizers or a Metaspace pre-tokenizer
// (LLaMA 2, Mistral), byte-level BPE (GPT-2, Llama 3 and the tokenizers tools/mktokenizer
// trains), WordPiece (BERT) and WordLevel.
//
// Llama 3 (Meta-Llama-3, Llama 3.1 and 3.2) cuts text with a Split pre-tokenizer whose
// pattern needs look-ahead, \s+(?!\S), which Go's regexp lacks; that exact pattern string is
// recognised and scanned by hand, alternative by alternative, as GPT-2's is inside ByteLevel.
// Any other pattern that Go cannot compile is refused. Its BPE model sets ignore_merges: a
// word found whole in the vocabulary is one token, whatever the merges would make of it.
//
// Special tokens come from tokenizer_config.json (bos_token, eos_token, pad_token,
// unk_token; a string or {"content": ...}), else from config.json (bos_token_id,
// eos_token_id, pad_token_id), else from well-known names (<s>, </s>, <|endoftext|>, <pad>,
// <unk>, ...). PAD falls back to EOS.
//
// The post_processor, truncation and padding sections are ignored: Encode adds BOS only
// when asked, and the chat template and the batcher do the rest.
//
// # Relation to sugarme/tokenizer
//
// The pipeline (added tokens, normalizer, pre-tokenizer, model, decoder) is orchestrated
// here over plain strings. github.com/sugarme/tokenizer v0.3.0 supplies the WordPiece and
// WordLevel models, the BertPreTokenizer, WhitespaceSplit, Punctuation, Digits,
// UnicodeScripts and CharDelimiterSplit pre-tokenizers and the Precompiled normalizer. The
// rest is ours because sugarme's version differs from Hugging Face's; each difference has a
// test (sugarme_test.go), and testdata/tokenizers/*/hf_golden.json holds ids and decodes
// produced by Hugging Face tokenizers 0.22.2 that every tokenizer in testdata must
// reproduce. In short, sugarme:
//
//   - ignores byte_fallback and fuse_unk: characters missing from a LLaMA vocabulary
//     become <unk> instead of <0xNN> byte tokens;
//   - applies equal-rank BPE merges in heap order, not leftmost first ("aaaa" -> a|aa);
//   - panics decoding an empty id list (Strip decoder), maps characters outside the byte
//     alphabet to NUL in the ByteLevel decoder, keeps invalid UTF-8, ignores the Metaspace
//     decoder's prepend_scheme and panics on a malformed <0xNN> token;
//   - matches added tokens in pattern order instead of text order ("</s>x<s>" loses its
//     "</s>") and numbers tokens absent from the model vocabulary itself;
//   - splits GPT-2 text without the pattern's whitespace alternatives, ignores ByteLevel's
//     use_regex, replaces every whitespace character (not only spaces) in Metaspace and
//     ignores its split flag, uses ASCII \w in Whitespace, reads Split's String patterns
//     as regexps and Replace's Regex patterns as empty;
//   - treats a null strip_accents in BertNormalizer as false instead of "follow lowercase",
//     panics stripping accents, panics on the Nmt normalizer, lowercases "İ" to "i" (Rust:
//     "i" + U+0307), and reads WordPiece's continuing_subword_prefix from the wrong key;
//   - trains BPE non-deterministically (TrainByteLevelBPE is ours).
//
// # Encoding
//
// Encode follows tokenizers' order: cut out added tokens (leftmost-longest, with their
// lstrip, rstrip and single_word flags), normalize each remaining piece, cut out normalized
// added tokens, pre-tokenize, and run the model on each word. As in Hugging Face, added
// tokens written in the text, such as "</s>" inside a user message, encode as themselves.
//
// # Chat templates
//
// A ChatTemplate renders a prompt (PlainTemplate, Llama2Template, or your own prefixes and
// suffixes) and its Encoder produces data.Sequence values: BOS, the prompt's ids, the
// response's ids and EOS, with the loss mask on the last two parts only. Prompt and
// response are encoded separately, so the mask boundary is exact. Sequences longer than
// MaxTokens fail with a *TooLongError wrapping ErrTooLong.
//
// # Training
//
// TrainByteLevelBPE learns a small byte-level BPE vocabulary deterministically and
// TrainedBPE.WriteFiles saves it in Hugging Face format; tools/mktokenizer drives both.
package tokenize
