package tokenize

import (
	"bytes"
	"container/heap"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// Special tokens of a trained tokenizer, in id order from 0. <pad> is 0 so that a
// zero-filled batch is padding; the role markers are single ids so that PlainTemplate costs
// one token per turn.
var DefaultSpecialTokens = []string{"<pad>", "<unk>", "<s>", "</s>", "<|system|>", "<|user|>", "<|assistant|>"}

// TrainConfig configures TrainByteLevelBPE. The zero value trains the default tokenizer.
type TrainConfig struct {
	// VocabSize is the size of the result, special tokens and the 256 byte tokens included;
	// training stops earlier when no pair reaches MinFrequency. Default 4096.
	VocabSize int
	// MinFrequency is the fewest occurrences a pair needs to be merged. Default 2.
	MinFrequency int
	// SpecialTokens take ids 0, 1, ...; the first four are the pad, unk, BOS and EOS
	// tokens. Default DefaultSpecialTokens.
	SpecialTokens []string
}

// TrainedBPE is a byte-level BPE vocabulary: what TrainByteLevelBPE learns and WriteFiles
// saves in Hugging Face format.
type TrainedBPE struct {
	// Tokens is the vocabulary in id order: special tokens, the 256 byte characters, then
	// one token per merge that made a new string.
	Tokens []string
	// Merges are the learned pairs, highest priority first.
	Merges [][2]string
	// Special is how many of the first Tokens are special.
	Special int
}

// TrainByteLevelBPE learns a GPT-2 style byte-level BPE from texts: each text is split by
// the GPT-2 pattern, spelled in byte characters, and the most frequent adjacent pair is
// merged until the vocabulary is full. Ties go to the lexicographically smallest pair, so
// the result depends only on the texts and cfg. sugarme's trainer is not used: it seeds its
// priority queue by ranging over a Go map and breaks count ties on an unset timestamp, so
// its merges change from run to run.
func TrainByteLevelBPE(texts []string, cfg TrainConfig) (*TrainedBPE, error) {
	if cfg.VocabSize == 0 {
		cfg.VocabSize = 4096
	}
	if cfg.MinFrequency == 0 {
		cfg.MinFrequency = 2
	}
	if cfg.SpecialTokens == nil {
		cfg.SpecialTokens = DefaultSpecialTokens
	}
	if len(cfg.SpecialTokens) < 4 {
		return nil, fmt.Errorf("tokenize: TrainConfig.SpecialTokens %q: need at least pad, unk, BOS and EOS", cfg.SpecialTokens)
	}
	if cfg.VocabSize < len(cfg.SpecialTokens)+256 {
		return nil, fmt.Errorf("tokenize: TrainConfig.VocabSize %d is below the %d special and byte tokens", cfg.VocabSize, len(cfg.SpecialTokens)+256)
	}
	t := &bpeTrainer{
		minFrequency: cfg.MinFrequency,
		ids:          map[string]int32{},
		pairCount:    map[[2]int32]int{},
		pairWords:    map[[2]int32][]int32{},
	}
	for _, s := range cfg.SpecialTokens {
		if _, dup := t.ids[s]; dup || s == "" {
			return nil, fmt.Errorf("tokenize: TrainConfig.SpecialTokens: %q is empty or repeated", s)
		}
		t.addToken(s)
	}
	for b := range 256 {
		t.addToken(string(byteToRune[b]))
	}
	t.countWords(texts)
	for len(t.tokens) < cfg.VocabSize {
		if !t.mergeBest() {
			break
		}
	}
	return &TrainedBPE{Tokens: t.tokens, Merges: t.merges, Special: len(cfg.SpecialTokens)}, nil
}

type bpeTrainer struct {
	minFrequency int
	tokens       []string
	ids          map[string]int32
	merges       [][2]string

	words     [][]int32 // distinct pre-tokenized words as symbol ids, sorted by text
	counts    []int     // occurrences of each word
	pairCount map[[2]int32]int
	pairWords map[[2]int32][]int32 // words that held the pair when it was counted; may be stale
	queue     pairQueue
}

func (t *bpeTrainer) addToken(s string) int32 {
	id := int32(len(t.tokens))
	t.tokens = append(t.tokens, s)
	t.ids[s] = id
	return id
}

func (t *bpeTrainer) countWords(texts []string) {
	freq := map[string]int{}
	for _, text := range texts {
		for _, w := range splitGPT2(text) {
			freq[w]++
		}
	}
	keys := make([]string, 0, len(freq))
	for w := range freq {
		keys = append(keys, w)
	}
	slices.Sort(keys)
	for i, w := range keys {
		symbols := make([]int32, len(w))
		for j := 0; j < len(w); j++ {
			symbols[j] = t.ids[string(byteToRune[w[j]])]
		}
		t.words = append(t.words, symbols)
		t.counts = append(t.counts, freq[w])
		t.addPairs(int32(i), +1, nil)
	}
	for pair, n := range t.pairCount {
		t.queue.entries = append(t.queue.entries, pairEntry{pair: pair, count: n})
	}
	t.queue.trainer = t
	heap.Init(&t.queue)
}

// addPairs adds sign × the word's count to each adjacent pair of word i, recording the
// changed pairs in changed when it is not nil.
func (t *bpeTrainer) addPairs(i int32, sign int, changed map[[2]int32]bool) {
	w := t.words[i]
	for j := 0; j+1 < len(w); j++ {
		p := [2]int32{w[j], w[j+1]}
		t.pairCount[p] += sign * t.counts[i]
		if sign > 0 {
			t.pairWords[p] = append(t.pairWords[p], i)
		}
		if changed != nil {
			changed[p] = true
		}
	}
}

// mergeBest merges the most frequent pair everywhere; false when none is frequent enough.
func (t *bpeTrainer) mergeBest() bool {
	var best pairEntry
	for {
		if t.queue.Len() == 0 {
			return false
		}
		best = heap.Pop(&t.queue).(pairEntry)
		if t.pairCount[best.pair] == best.count { // otherwise stale: a fresher entry exists
			break
		}
	}
	if best.count < t.minFrequency {
		return false
	}
	left, right := t.tokens[best.pair[0]], t.tokens[best.pair[1]]
	t.merges = append(t.merges, [2]string{left, right})
	newID, ok := t.ids[left+right]
	if !ok {
		newID = t.addToken(left + right)
	}
	changed := map[[2]int32]bool{}
	words := t.pairWords[best.pair]
	delete(t.pairWords, best.pair)
	seen := map[int32]bool{}
	for _, i := range words {
		if seen[i] {
			continue
		}
		seen[i] = true
		if !containsPair(t.words[i], best.pair) {
			continue
		}
		t.addPairs(i, -1, changed)
		t.words[i] = mergePair(t.words[i], best.pair, newID)
		t.addPairs(i, +1, changed)
	}
	keys := make([][2]int32, 0, len(changed))
	for p := range changed {
		keys = append(keys, p)
	}
	slices.SortFunc(keys, func(a, b [2]int32) int { return comparePairs(a, b) })
	for _, p := range keys {
		if n := t.pairCount[p]; n > 0 {
			heap.Push(&t.queue, pairEntry{pair: p, count: n})
		} else {
			delete(t.pairCount, p)
		}
	}
	return true
}

func comparePairs(a, b [2]int32) int {
	if a[0] != b[0] {
		return int(a[0] - b[0])
	}
	return int(a[1] - b[1])
}

func containsPair(w []int32, pair [2]int32) bool {
	for j := 0; j+1 < len(w); j++ {
		if w[j] == pair[0] && w[j+1] == pair[1] {
			return true
		}
	}
	return false
}

// mergePair replaces each non-overlapping occurrence of pair, left to right, by newID.
func mergePair(w []int32, pair [2]int32, newID int32) []int32 {
	out := w[:0:0]
	for j := 0; j < len(w); j++ {
		if j+1 < len(w) && w[j] == pair[0] && w[j+1] == pair[1] {
			out = append(out, newID)
			j++
			continue
		}
		out = append(out, w[j])
	}
	return out
}

// pairEntry is a pair's count when it was queued; entries whose count no longer matches
// are skipped when popped.
type pairEntry struct {
	pair  [2]int32
	count int
}

// pairQueue pops the highest count first, ties broken by the smaller (left, right) text.
type pairQueue struct {
	entries []pairEntry
	trainer *bpeTrainer
}

func (q pairQueue) Len() int { return len(q.entries) }
func (q pairQueue) Less(i, j int) bool {
	a, b := q.entries[i], q.entries[j]
	if a.count != b.count {
		return a.count > b.count
	}
	tok := q.trainer.tokens
	if c := strings.Compare(tok[a.pair[0]], tok[b.pair[0]]); c != 0 {
		return c < 0
	}
	return tok[a.pair[1]] < tok[b.pair[1]]
}
func (q pairQueue) Swap(i, j int) { q.entries[i], q.entries[j] = q.entries[j], q.entries[i] }
func (q *pairQueue) Push(x any)   { q.entries = append(q.entries, x.(pairEntry)) }
func (q *pairQueue) Pop() any {
	x := q.entries[len(q.entries)-1]
	q.entries = q.entries[:len(q.entries)-1]
	return x
}

// WriteFiles writes dir/tokenizer.json (Hugging Face format: ByteLevel pre-tokenizer and
// decoder, BPE model, a post-processor that adds BOS) and dir/tokenizer_config.json. The
// bytes depend only on b.
func (b *TrainedBPE) WriteFiles(dir string) error {
	if b.Special < 4 {
		return errors.New("tokenize: TrainedBPE needs pad, unk, BOS and EOS as its first special tokens")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("tokenize: %w", err)
	}
	pad, unk, bos, eos := b.Tokens[0], b.Tokens[1], b.Tokens[2], b.Tokens[3]
	var out bytes.Buffer
	out.WriteString("{\n \"version\": \"1.0\",\n \"truncation\": null,\n \"padding\": null,\n \"added_tokens\": [\n")
	for id := range b.Special {
		fmt.Fprintf(&out, "  {\"id\": %d, \"content\": %s, \"single_word\": false, \"lstrip\": false, \"rstrip\": false, \"normalized\": false, \"special\": true}%s",
			id, jsonString(b.Tokens[id]), lineEnd(id, b.Special))
	}
	out.WriteString(" ],\n \"normalizer\": null,\n")
	out.WriteString(" \"pre_tokenizer\": {\"type\": \"ByteLevel\", \"add_prefix_space\": false, \"trim_offsets\": true, \"use_regex\": true},\n")
	fmt.Fprintf(&out, " \"post_processor\": {\"type\": \"TemplateProcessing\", "+
		"\"single\": [{\"SpecialToken\": {\"id\": %[1]s, \"type_id\": 0}}, {\"Sequence\": {\"id\": \"A\", \"type_id\": 0}}], "+
		"\"pair\": [{\"SpecialToken\": {\"id\": %[1]s, \"type_id\": 0}}, {\"Sequence\": {\"id\": \"A\", \"type_id\": 0}}, "+
		"{\"SpecialToken\": {\"id\": %[1]s, \"type_id\": 1}}, {\"Sequence\": {\"id\": \"B\", \"type_id\": 1}}], "+
		"\"special_tokens\": {%[1]s: {\"id\": %[1]s, \"ids\": [2], \"tokens\": [%[1]s]}}},\n", jsonString(bos))
	out.WriteString(" \"decoder\": {\"type\": \"ByteLevel\", \"add_prefix_space\": true, \"trim_offsets\": true, \"use_regex\": true},\n")
	out.WriteString(" \"model\": {\n  \"type\": \"BPE\",\n  \"dropout\": null,\n  \"unk_token\": null,\n" +
		"  \"continuing_subword_prefix\": null,\n  \"end_of_word_suffix\": null,\n  \"fuse_unk\": false,\n" +
		"  \"byte_fallback\": false,\n  \"ignore_merges\": false,\n  \"vocab\": {\n")
	for id, tok := range b.Tokens {
		fmt.Fprintf(&out, "   %s: %d%s", jsonString(tok), id, lineEnd(id, len(b.Tokens)))
	}
	out.WriteString("  },\n  \"merges\": [\n")
	for i, m := range b.Merges {
		fmt.Fprintf(&out, "   [%s, %s]%s", jsonString(m[0]), jsonString(m[1]), lineEnd(i, len(b.Merges)))
	}
	out.WriteString("  ]\n }\n}\n")
	if err := os.WriteFile(filepath.Join(dir, "tokenizer.json"), out.Bytes(), 0o644); err != nil {
		return fmt.Errorf("tokenize: %w", err)
	}

	config := struct {
		AddBOS                   bool     `json:"add_bos_token"`
		AddEOS                   bool     `json:"add_eos_token"`
		BOS                      string   `json:"bos_token"`
		EOS                      string   `json:"eos_token"`
		PAD                      string   `json:"pad_token"`
		UNK                      string   `json:"unk_token"`
		AdditionalSpecialTokens  []string `json:"additional_special_tokens"`
		CleanUpTokenizationSpace bool     `json:"clean_up_tokenization_spaces"`
		ModelMaxLength           int      `json:"model_max_length"`
		TokenizerClass           string   `json:"tokenizer_class"`
	}{true, false, bos, eos, pad, unk, b.Tokens[4:b.Special], false, 512, "PreTrainedTokenizerFast"}
	var cb bytes.Buffer
	enc := json.NewEncoder(&cb)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(config); err != nil {
		return fmt.Errorf("tokenize: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "tokenizer_config.json"), cb.Bytes(), 0o644); err != nil {
		return fmt.Errorf("tokenize: %w", err)
	}
	return nil
}

func lineEnd(i, n int) string {
	if i == n-1 {
		return "\n"
	}
	return ",\n"
}

// jsonString quotes s as JSON without escaping <, > and & (which encoding/json does by
// default, and which would make "<s>" unreadable in the file).
func jsonString(s string) string {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s) // a string always encodes
	return strings.TrimSuffix(buf.String(), "\n")
}
