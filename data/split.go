package data

// partOf says which part of the split a row belongs to. The hash covers the row's content
// as stored (for UltraChat the whole conversation, before a turn is picked), so the answer
// depends neither on read order nor on Options.Seed.
func (l *layout) partOf(raw *rawRow, split Split) string {
	if split.Val == 0 && split.Test == 0 {
		return PartTrain
	}
	h := fnv64a(fnvOffset64, split.Seed)
	field := func(s string) {
		// Length prefixes keep ("ab", "c") and ("a", "bc") apart.
		h = fnv64a(h, uint64(len(s)))
		for i := 0; i < len(s); i++ {
			h = (h ^ uint64(s[i])) * fnvPrime64
		}
	}
	if l.messages != "" {
		for _, m := range raw.messages {
			field(m.Role)
			field(m.Content)
		}
	}
	if l.prompt != "" {
		field(raw.prompt)
	}
	if l.response != "" {
		field(raw.response)
	}
	if l.chosen != "" {
		field(raw.chosen)
	}
	if l.reject != "" {
		field(raw.rejected)
	}
	// FNV's top bits mix poorly on short input; SplitMix's finalizer fixes that. The top
	// 53 bits then make a uniform float in [0, 1).
	u := float64(mix64(h)>>11) / (1 << 53)
	switch {
	case u < split.Val:
		return PartVal
	case u < split.Val+split.Test:
		return PartTest
	}
	return PartTrain
}

// FNV-1a, 64-bit (hash/fnv's constants), written out so that hashing a row allocates
// nothing.
const (
	fnvOffset64 = 14695981039346656037
	fnvPrime64  = 1099511628211
)

// fnv64a folds the 8 little-endian bytes of x into h.
func fnv64a(h, x uint64) uint64 {
	for range 8 {
		h = (h ^ (x & 0xff)) * fnvPrime64
		x >>= 8
	}
	return h
}
