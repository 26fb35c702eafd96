package tokenize

import (
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"unicode/utf8"
)

// bpeModel is a byte-pair-encoding model with Hugging Face tokenizers' semantics. It replaces
// sugarme's bpe.BPE, which ignores byte_fallback and fuse_unk (unknown characters become
// <unk>), applies equal-rank merges in heap order rather than leftmost first ("aaaa" comes
// out as a|aa instead of aa|a) and panics on a character missing from a vocabulary without
// an unk token.
type bpeModel struct {
	vocab  map[string]int32
	merges map[[2]int32]bpeMerge

	unkID                   int32 // -1: none
	fuseUnknown             bool
	byteFallback            bool
	ignoreMerges            bool
	continuingSubwordPrefix string
	endOfWordSuffix         string

	// byteIDs[b] is the id of the byte-fallback token <0xHH>, -1 when the vocabulary lacks it.
	byteIDs [256]int32

	cacheMu sync.RWMutex
	cache   map[string][]int32
}

// bpeMerge is what merging a pair yields: its priority (lower merges first) and the new id.
type bpeMerge struct {
	rank  int32
	newID int32
}

const (
	// bpeCacheEntries bounds the word cache; past it new words are not cached.
	bpeCacheEntries = 1 << 16
	// bpeCacheMaxBytes keeps long words (a whole text, when there is no pre-tokenizer) out of
	// the cache, where they would rarely repeat.
	bpeCacheMaxBytes = 64
)

// bpeJSON is the "model" section of a tokenizer.json whose type is BPE.
type bpeJSON struct {
	UnkToken                *string           `json:"unk_token"`
	ContinuingSubwordPrefix *string           `json:"continuing_subword_prefix"`
	EndOfWordSuffix         *string           `json:"end_of_word_suffix"`
	FuseUnk                 bool              `json:"fuse_unk"`
	ByteFallback            bool              `json:"byte_fallback"`
	IgnoreMerges            bool              `json:"ignore_merges"`
	Dropout                 *float64          `json:"dropout"`
	Vocab                   map[string]int32  `json:"vocab"`
	Merges                  []json.RawMessage `json:"merges"`
}

// newBPEModel builds the model from the tokenizer.json model section. Merges may be written
// either as "a b" strings (tokenizers < 0.20) or as ["a", "b"] pairs.
func newBPEModel(raw json.RawMessage) (*bpeModel, error) {
	var cfg bpeJSON
	if err := json.Unmarshal(raw, &cfg); err != nil {
		return nil, fmt.Errorf("model (BPE): %w", err)
	}
	if cfg.Dropout != nil && *cfg.Dropout > 0 {
		return nil, fmt.Errorf("model (BPE): dropout %g is for training; set it to null to encode deterministically", *cfg.Dropout)
	}
	m := &bpeModel{
		vocab:        cfg.Vocab,
		merges:       make(map[[2]int32]bpeMerge, len(cfg.Merges)),
		unkID:        -1,
		fuseUnknown:  cfg.FuseUnk,
		byteFallback: cfg.ByteFallback,
		ignoreMerges: cfg.IgnoreMerges,
		cache:        make(map[string][]int32),
	}
	if cfg.ContinuingSubwordPrefix != nil {
		m.continuingSubwordPrefix = *cfg.ContinuingSubwordPrefix
	}
	if cfg.EndOfWordSuffix != nil {
		m.endOfWordSuffix = *cfg.EndOfWordSuffix
	}
	if cfg.UnkToken != nil {
		id, ok := m.vocab[*cfg.UnkToken]
		if !ok {
			return nil, fmt.Errorf("model (BPE): unk_token %q is not in the vocabulary", *cfg.UnkToken)
		}
		m.unkID = id
	}
	for b := range m.byteIDs {
		m.byteIDs[b] = -1
		if id, ok := m.vocab[byteFallbackToken(byte(b))]; ok {
			m.byteIDs[b] = id
		}
	}
	for rank, rawMerge := range cfg.Merges {
		left, right, err := parseMerge(rawMerge)
		if err != nil {
			return nil, fmt.Errorf("model (BPE): merges[%d]: %w", rank, err)
		}
		leftID, okLeft := m.vocab[left]
		rightID, okRight := m.vocab[right]
		merged := left + strings.TrimPrefix(right, m.continuingSubwordPrefix)
		newID, okNew := m.vocab[merged]
		if !okLeft || !okRight || !okNew {
			return nil, fmt.Errorf("model (BPE): merges[%d] %q %q: token not in the vocabulary", rank, left, right)
		}
		pair := [2]int32{leftID, rightID}
		if _, dup := m.merges[pair]; !dup { // the first occurrence has the higher priority
			m.merges[pair] = bpeMerge{rank: int32(rank), newID: newID}
		}
	}
	return m, nil
}

func parseMerge(raw json.RawMessage) (left, right string, err error) {
	var pair []string
	if json.Unmarshal(raw, &pair) == nil {
		if len(pair) != 2 {
			return "", "", fmt.Errorf("want 2 tokens, have %d", len(pair))
		}
		return pair[0], pair[1], nil
	}
	var line string
	if err := json.Unmarshal(raw, &line); err != nil {
		return "", "", fmt.Errorf("want \"a b\" or [\"a\", \"b\"], have %s", raw)
	}
	left, right, ok := strings.Cut(line, " ")
	if !ok {
		return "", "", fmt.Errorf("%q has no space between its two tokens", line)
	}
	return left, right, nil
}

// byteFallbackToken is the SentencePiece name of the token for one raw byte, "<0x0A>".
func byteFallbackToken(b byte) string {
	return fmt.Sprintf("<0x%02X>", b)
}

// tokenize appends the ids of word (one pre-tokenized piece) to ids.
func (m *bpeModel) tokenize(word string, ids []int32) ([]int32, error) {
	if word == "" {
		return ids, nil
	}
	if m.ignoreMerges {
		if id, ok := m.vocab[word]; ok {
			return append(ids, id), nil
		}
	}
	cacheable := len(word) <= bpeCacheMaxBytes
	if cacheable {
		m.cacheMu.RLock()
		hit, ok := m.cache[word]
		m.cacheMu.RUnlock()
		if ok {
			return append(ids, hit...), nil
		}
	}
	symbols, err := m.initialSymbols(word)
	if err != nil {
		return ids, err
	}
	symbols = m.mergeAll(symbols)
	start := len(ids)
	for _, s := range symbols {
		if s.length > 0 {
			ids = append(ids, s.id)
		}
	}
	if cacheable {
		m.cacheMu.Lock()
		if len(m.cache) < bpeCacheEntries {
			m.cache[word] = append([]int32(nil), ids[start:]...)
		}
		m.cacheMu.Unlock()
	}
	return ids, nil
}

// bpeSymbol is one node of the doubly linked list that merging shrinks; length 0 marks a
// symbol merged into its left neighbour.
type bpeSymbol struct {
	id         int32
	prev, next int
	length     int
}

// initialSymbols splits word into characters, mapping each to its id, to its byte-fallback
// tokens, or to unk, exactly as tokenizers' BPE::merge_word does (including its order of a
// pending fused unk and byte tokens).
func (m *bpeModel) initialSymbols(word string) ([]bpeSymbol, error) {
	symbols := make([]bpeSymbol, 0, len(word))
	add := func(id int32, byteLen int) {
		n := len(symbols)
		symbols = append(symbols, bpeSymbol{id: id, prev: n - 1, next: n + 1, length: byteLen})
	}
	pendingUnk, pendingLen := false, 0
	for i, byteLen := 0, 0; i < len(word); i += byteLen {
		_, byteLen = utf8.DecodeRuneInString(word[i:])
		s := word[i : i+byteLen]
		if i > 0 && m.continuingSubwordPrefix != "" {
			s = m.continuingSubwordPrefix + s
		}
		if i+byteLen == len(word) && m.endOfWordSuffix != "" {
			s += m.endOfWordSuffix
		}
		if id, ok := m.vocab[s]; ok {
			if pendingUnk {
				add(m.unkID, pendingLen)
				pendingUnk = false
			}
			add(id, byteLen)
			continue
		}
		if m.byteFallback && m.hasByteTokens(s) {
			for j := 0; j < len(s); j++ {
				add(m.byteIDs[s[j]], 1)
			}
			continue
		}
		if m.unkID < 0 {
			return nil, fmt.Errorf("model (BPE): %q is not in the vocabulary and the model has no unk_token", s)
		}
		switch {
		case pendingUnk && m.fuseUnknown:
			pendingLen += byteLen
		case pendingUnk:
			add(m.unkID, pendingLen)
			pendingLen = byteLen
		default:
			pendingUnk, pendingLen = true, byteLen
		}
	}
	if pendingUnk {
		add(m.unkID, pendingLen)
	}
	if n := len(symbols); n > 0 {
		symbols[n-1].next = -1
	}
	return symbols, nil
}

func (m *bpeModel) hasByteTokens(s string) bool {
	for j := 0; j < len(s); j++ {
		if m.byteIDs[s[j]] < 0 {
			return false
		}
	}
	return true
}

// mergeCandidate is a pair that may merge: the lowest rank goes first, and among equal ranks
// the leftmost position, as in tokenizers' Word::merge_all. left and right are the ids the
// pair had when queued, so a candidate still valid is recognised without a map lookup.
type mergeCandidate struct {
	pos         int
	rank        int32
	left, right int32
	newID       int32
}

func (a mergeCandidate) before(b mergeCandidate) bool {
	if a.rank != b.rank {
		return a.rank < b.rank
	}
	return a.pos < b.pos
}

// mergeQueue is a binary min-heap of candidates, typed to avoid container/heap's boxing in
// the innermost loop of encoding.
type mergeQueue []mergeCandidate

func (q *mergeQueue) push(c mergeCandidate) {
	*q = append(*q, c)
	h := *q
	for i := len(h) - 1; i > 0; {
		parent := (i - 1) / 2
		if !h[i].before(h[parent]) {
			break
		}
		h[i], h[parent] = h[parent], h[i]
		i = parent
	}
}

func (q *mergeQueue) pop() mergeCandidate {
	h := *q
	top := h[0]
	last := len(h) - 1
	h[0] = h[last]
	h = h[:last]
	for i := 0; ; {
		smallest, l, r := i, 2*i+1, 2*i+2
		if l < len(h) && h[l].before(h[smallest]) {
			smallest = l
		}
		if r < len(h) && h[r].before(h[smallest]) {
			smallest = r
		}
		if smallest == i {
			break
		}
		h[i], h[smallest] = h[smallest], h[i]
		i = smallest
	}
	*q = h
	return top
}

func (m *bpeModel) candidate(pos int, left, right int32) (mergeCandidate, bool) {
	mg, ok := m.merges[[2]int32{left, right}]
	return mergeCandidate{pos: pos, rank: mg.rank, left: left, right: right, newID: mg.newID}, ok
}

func (m *bpeModel) mergeAll(symbols []bpeSymbol) []bpeSymbol {
	queue := make(mergeQueue, 0, len(symbols))
	for i := 0; i+1 < len(symbols); i++ {
		if c, ok := m.candidate(i, symbols[i].id, symbols[i+1].id); ok {
			queue.push(c)
		}
	}
	for len(queue) > 0 {
		top := queue.pop()
		cur := &symbols[top.pos]
		if cur.length == 0 || cur.next == -1 {
			continue
		}
		if cur.id != top.left || symbols[cur.next].id != top.right {
			// One side merged since this candidate was queued. tokenizers still applies it
			// when the pair now there merges into the same token.
			if mg, ok := m.merges[[2]int32{cur.id, symbols[cur.next].id}]; !ok || mg.newID != top.newID {
				continue
			}
		}
		nextPos := cur.next
		right := symbols[nextPos]
		cur.id = top.newID
		cur.length += right.length
		cur.next = right.next
		symbols[nextPos].length = 0
		if right.next >= 0 {
			symbols[right.next].prev = top.pos
		}
		if cur.prev >= 0 {
			if c, ok := m.candidate(cur.prev, symbols[cur.prev].id, cur.id); ok {
				queue.push(c)
			}
		}
		if cur.next >= 0 {
			if c, ok := m.candidate(top.pos, cur.id, symbols[cur.next].id); ok {
				queue.push(c)
			}
		}
	}
	return symbols
}
