package data

import (
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// mixedLengths makes n prompt-response rows whose byteEncoder sequences are 10 to 500
// tokens long, spread evenly: a 4-byte prompt, 5 to 495 bytes of response and EOS.
func mixedLengths(n int) table {
	tb := table{cols: []string{"prompt", "response"}}
	pcg := rand.NewPCG(1, 2)
	for i := range n {
		tb = tb.add(fmt.Sprintf("p%03d", i), strings.Repeat("x", 5+boundedRand(pcg, 491)))
	}
	return tb
}

// mixedPairs makes n preference pairs with 4-byte prompts and responses of 5 to 300 bytes,
// chosen ones starting with 'c' and rejected ones with 'r'.
func mixedPairs(n int) table {
	tb := table{cols: []string{"prompt", "chosen", "rejected"}}
	pcg := rand.NewPCG(3, 4)
	for i := range n {
		tb = tb.add(fmt.Sprintf("q%03d", i),
			"c"+strings.Repeat("y", 4+boundedRand(pcg, 296)),
			"r"+strings.Repeat("n", 4+boundedRand(pcg, 296)))
	}
	return tb
}

// paddingFraction is the share of the batches' B*T slots that are padding.
func paddingFraction(batches []Batch) float64 {
	var tokens, slots int64
	for _, b := range batches {
		for _, m := range b.AttentionMask {
			tokens += m
		}
		slots += int64(b.B * b.T)
	}
	return 1 - float64(tokens)/float64(slots)
}

// entryLengths gives each example's length in a batch, or each pair's longer side's.
func entryLengths(b Batch, pairs bool) []int {
	per := 1
	if pairs {
		per = 2
	}
	lengths := make([]int, b.B/per)
	for i := range b.B {
		n := 0
		for _, m := range b.AttentionMask[i*b.T : (i+1)*b.T] {
			n += int(m)
		}
		lengths[i/per] = max(lengths[i/per], n)
	}
	return lengths
}

// requireSortedGroups checks that each group's batches are cuts of one length-sorted list:
// ordered by their shortest entry, no batch's longest exceeds the next one's shortest.
func requireSortedGroups(t *testing.T, batches []Batch, groupSizes []int, pairs bool) {
	t.Helper()
	for _, size := range groupSizes {
		group := batches[:size]
		batches = batches[size:]
		type span struct{ lo, hi int }
		spans := make([]span, len(group))
		for i, b := range group {
			lengths := entryLengths(b, pairs)
			spans[i] = span{slices.Min(lengths), slices.Max(lengths)}
		}
		slices.SortFunc(spans, func(x, y span) int { return x.lo - y.lo })
		for i := 1; i < len(spans); i++ {
			require.LessOrEqual(t, spans[i-1].hi, spans[i].lo, "batches of one group overlap in length: %v", spans)
		}
	}
	require.Empty(t, batches, "batches beyond the expected groups")
}

func batchRows(batches []Batch) []int64 {
	var rows []int64
	for _, b := range batches {
		for _, p := range b.Rows {
			rows = append(rows, p.Row)
		}
	}
	return rows
}

func TestGroupedBatchesHoldEachRowOncePerEpoch(t *testing.T) {
	path := writeAll(t, mixedLengths(300), 32)["parquet"]
	opt := Options{Seed: 1, ShuffleBuffer: 50, Epochs: 2}
	bopt := BatchOptions{Size: 8, MaxTokens: 500, GroupBatches: 4, Seed: 7}
	batches := allBatches(t, newBatcherT(t, newStreamT(t, path, opt), byteEncoder, bopt))

	// 300 rows an epoch make 9 groups of 32 and one of 12: 36 batches of 8, one of 8 and
	// one of 4.
	require.Len(t, batches, 2*38)
	rows := batchRows(batches)
	require.True(t, isPermutation(rows[:300], 300), "every row once in epoch 0")
	require.True(t, isPermutation(rows[300:], 300), "every row once in epoch 1, no group spanning both")
	var short []int
	for i, b := range batches {
		if b.B != 8 {
			short = append(short, i)
			require.Equal(t, 4, b.B)
		}
	}
	require.Len(t, short, 2, "one short batch an epoch")
	require.GreaterOrEqual(t, short[0], 36, "in epoch 0's last group")
	require.Less(t, short[0], 38)
	require.GreaterOrEqual(t, short[1], 38+36, "in epoch 1's last group")

	var groupSizes []int
	for range 2 {
		groupSizes = append(groupSizes, 4, 4, 4, 4, 4, 4, 4, 4, 4, 2)
	}
	requireSortedGroups(t, batches, groupSizes, false)
}

func TestGroupingCutsPadding(t *testing.T) {
	path := writeAll(t, mixedLengths(512), 64)["parquet"]
	opt := Options{Seed: 2, ShuffleBuffer: 100}
	plain := allBatches(t, newBatcherT(t, newStreamT(t, path, opt), byteEncoder, BatchOptions{Size: 8}))
	grouped := allBatches(t, newBatcherT(t, newStreamT(t, path, opt), byteEncoder, BatchOptions{Size: 8, GroupBatches: 16}))
	require.ElementsMatch(t, batchRows(plain), batchRows(grouped), "the same rows")
	without, with := paddingFraction(plain), paddingFraction(grouped)
	t.Logf("padding: %.1f%% without grouping, %.1f%% with", 100*without, 100*with)
	require.Greater(t, without, 0.3, "lengths of 10 to 500 tokens pad a lot at random")
	require.Less(t, with, without/4, "grouping by length cuts padding")
}

func TestGroupingIsDeterministic(t *testing.T) {
	path := writeAll(t, mixedLengths(200), 32)["jsonl"]
	opt := Options{Seed: 3, ShuffleBuffer: 40, Epochs: 2}
	bopt := BatchOptions{Size: 5, GroupBatches: 6, Seed: 7}
	run := func(bopt BatchOptions) []Batch {
		return allBatches(t, newBatcherT(t, newStreamT(t, path, opt), byteEncoder, bopt))
	}
	a := run(bopt)
	require.Equal(t, a, run(bopt), "same seed, same batches in the same order")
	bopt.Seed = 8
	b := run(bopt)
	require.NotEqual(t, a, b, "another seed, another order")
	require.ElementsMatch(t, a[:len(a)/2], b[:len(b)/2], "of the same batches, since groups and their cuts depend on the stream alone")
}

func TestGroupingPairsStayTogether(t *testing.T) {
	path := writeAll(t, mixedPairs(70), 16)["parquet"]
	opt := Options{Seed: 4, ShuffleBuffer: 20}
	bopt := BatchOptions{Size: 3, MaxTokens: 1000, Pairs: true, GroupBatches: 5, Seed: 1}
	b := newBatcherT(t, newStreamT(t, path, opt), byteEncoder, bopt)
	batches := allBatches(t, b)

	var pairRows []int64
	for _, batch := range batches {
		require.Zero(t, batch.B%2)
		for i := 0; i < batch.B; i += 2 {
			require.Equal(t, batch.Rows[i], batch.Rows[i+1], "chosen and rejected of one pair side by side")
			require.Equal(t, int64('c'), batch.IDs[i*batch.T+4], "chosen at 2i")
			require.Equal(t, int64('r'), batch.IDs[(i+1)*batch.T+4], "rejected at 2i+1")
			pairRows = append(pairRows, batch.Rows[i].Row)
		}
	}
	require.True(t, isPermutation(pairRows, 70), "every pair once")
	// 70 pairs: 4 groups of 15 in 5 batches of 3, then 10 in 3 batches of 3 and one of 1.
	requireSortedGroups(t, batches, []int{5, 5, 5, 5, 4}, true)
	require.Equal(t, BatchStats{Batches: 24, Sequences: 140}, b.Stats())

	plain := allBatches(t, newBatcherT(t, newStreamT(t, path, opt), byteEncoder, BatchOptions{Size: 3, MaxTokens: 1000, Pairs: true}))
	require.Less(t, paddingFraction(batches), paddingFraction(plain))
}

// TestGroupingResumesExactly is the checkpoint contract with grouping: a run restored from
// the BatchState saved after any batch continues with exactly the batches of an
// uninterrupted run, mid-group or not, across epochs.
func TestGroupingResumesExactly(t *testing.T) {
	for _, tc := range []struct {
		name   string
		tb     table
		opt    Options
		bopt   BatchOptions
		drops  bool
		groups bool
	}{
		{
			name:  "examples",
			tb:    mixedLengths(157),
			opt:   Options{Seed: 11, ShuffleBuffer: 23, Epochs: 2, Split: Split{Val: 0.1}},
			bopt:  BatchOptions{Size: 4, MaxTokens: 400, PadMultiple: 8, GroupBatches: 3, Seed: 5},
			drops: true, groups: true,
		},
		{
			// 48 rows fill 4 groups exactly, so the next group starts at the epoch's end.
			name:   "exact groups",
			tb:     mixedLengths(48),
			opt:    Options{Seed: 3, ShuffleBuffer: 10, Epochs: 2},
			bopt:   BatchOptions{Size: 4, MaxTokens: 500, GroupBatches: 3, Seed: 6},
			groups: true,
		},
		{
			name:  "pairs",
			tb:    mixedPairs(61),
			opt:   Options{Seed: 2, ShuffleBuffer: 16, Epochs: 2},
			bopt:  BatchOptions{Size: 3, MaxTokens: 250, Pairs: true, GroupBatches: 4, Seed: 9},
			drops: true, groups: true,
		},
		{
			name:  "no grouping",
			tb:    mixedLengths(100),
			opt:   Options{Seed: 5, ShuffleBuffer: 12, Epochs: 2},
			bopt:  BatchOptions{Size: 6, MaxTokens: 400},
			drops: true,
		},
	} {
		paths := writeAll(t, tc.tb, 16)
		for _, format := range []string{"parquet", "jsonl"} {
			t.Run(tc.name+"/"+format, func(t *testing.T) {
				path := paths[format]
				b := newBatcherT(t, newStreamT(t, path, tc.opt), byteEncoder, tc.bopt)
				var full []Batch
				states := []BatchState{b.BatchState()}
				midGroup := 0
				for {
					batch, err := b.Next()
					if err == io.EOF {
						break
					}
					require.NoError(t, err)
					full = append(full, batch)
					st := b.BatchState()
					require.Equal(t, st.Stream, b.State())
					if st.Emitted > 0 {
						midGroup++
					}
					states = append(states, st)
				}
				require.Equal(t, tc.drops, b.Stats().TooLong > 0, "the case drops examples")
				require.Equal(t, tc.groups, midGroup > 0, "the case saves mid-group states")
				require.Equal(t, BatchState{Stream: b.State(), Config: b.config()}, states[len(states)-1], "nothing emitted at the end")

				for k := range states {
					saved, err := json.Marshal(states[k])
					require.NoError(t, err)
					var st BatchState
					require.NoError(t, json.Unmarshal(saved, &st))

					resumed := newBatcherT(t, newStreamT(t, path, tc.opt), byteEncoder, tc.bopt)
					require.NoError(t, resumed.Restore(st))
					require.Equal(t, states[k], resumed.BatchState(), "restored to where it was saved")
					rest := allBatches(t, resumed)
					if k == len(full) {
						require.Empty(t, rest)
					} else {
						require.Equal(t, full[k:], rest, "resumed after batch %d (state %s)", k, saved)
					}
				}
			})
		}
	}
}

// TestGroupingOffKeepsStreamOrder: without grouping (GroupBatches 0 or 1) batches take the
// stream's examples in order, and BatchState is the stream's State.
func TestGroupingOffKeepsStreamOrder(t *testing.T) {
	path := writeAll(t, mixedLengths(90), 16)["parquet"]
	opt := Options{Seed: 6, ShuffleBuffer: 30}
	order := rowsOf(readAll(t, newStreamT(t, path, opt)))
	for _, groups := range []int{0, 1} {
		b := newBatcherT(t, newStreamT(t, path, opt), byteEncoder, BatchOptions{Size: 7, GroupBatches: groups, Seed: 3})
		var batches []Batch
		for {
			batch, err := b.Next()
			if err == io.EOF {
				break
			}
			require.NoError(t, err)
			batches = append(batches, batch)
			require.Equal(t, BatchState{Stream: b.s.State(), Config: b.config()}, b.BatchState())
		}
		require.Equal(t, order, batchRows(batches), "group batches %d", groups)
		require.Equal(t, 7, batches[0].B)
		require.Equal(t, 90%7, batches[len(batches)-1].B, "only the last batch is short")
	}
}

func TestBatcherRestoreRefusesBadStates(t *testing.T) {
	path := writeAll(t, mixedLengths(40), 16)["parquet"]
	opt := Options{Seed: 1, ShuffleBuffer: 8}
	bopt := BatchOptions{Size: 4, GroupBatches: 3, Seed: 2}
	b := newBatcherT(t, newStreamT(t, path, opt), byteEncoder, bopt)
	_, err := b.Next()
	require.NoError(t, err)
	st := b.BatchState()
	require.Equal(t, 1, st.Emitted)

	restore := func(bopt BatchOptions, st BatchState) error {
		return newBatcherT(t, newStreamT(t, path, opt), byteEncoder, bopt).Restore(st)
	}
	require.NoError(t, restore(bopt, st))
	require.ErrorContains(t, restore(BatchOptions{Size: 4, GroupBatches: 3, Seed: 9}, st), "saved with other batch options")
	require.ErrorContains(t, restore(BatchOptions{Size: 4}, st), "this batcher does not group")
	require.ErrorContains(t, restore(bopt, BatchState{Stream: st.Stream, Emitted: -1, Config: st.Config}), "must not be negative")
	require.ErrorContains(t, restore(bopt, BatchState{Stream: st.Stream, Emitted: 4, Config: st.Config}), "the group has only 3")
	require.ErrorContains(t, restore(bopt, BatchState{Stream: State{Config: st.Stream.Config + 1}, Config: st.Config}), "other data options")
	require.NoError(t, restore(BatchOptions{Size: 5, GroupBatches: 2}, BatchState{Stream: st.Stream}), "between groups any batch options will do")

	_, err = NewBatcher(newStreamT(t, path, opt), byteEncoder, BatchOptions{GroupBatches: -1})
	require.ErrorContains(t, err, "group batches -1")
}

func ExampleBatcher_BatchState() {
	s, err := NewStream(filepath.Join("testdata", "chat.jsonl"), Options{Seed: 1})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer s.Close()
	// A toy tokenizer: one token per byte of the prompt and response, the response's in
	// the loss.
	encode := func(ex Example) (Sequence, error) {
		var seq Sequence
		for _, m := range ex.Prompt {
			seq.IDs, seq.LossMask = append(seq.IDs, make([]int32, len(m.Content))...), append(seq.LossMask, make([]bool, len(m.Content))...)
		}
		for range ex.Response {
			seq.IDs, seq.LossMask = append(seq.IDs, 8), append(seq.LossMask, true)
		}
		return seq, nil
	}
	// Batches of one example, made from groups of two sorted by length.
	b, err := NewBatcher(s, encode, BatchOptions{Size: 1, GroupBatches: 2, Seed: 1})
	if err != nil {
		fmt.Println(err)
		return
	}
	for {
		batch, err := b.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			fmt.Println(err)
			return
		}
		st := b.BatchState() // save it with the checkpoint; Batcher.Restore resumes here
		fmt.Printf("row %d, T=%d; resume from epoch %d, row %d, %d batches emitted\n", batch.Rows[0].Row, batch.T, st.Stream.Epoch, st.Stream.Consumed, st.Emitted)
	}
	// Output:
	// row 2, T=47; resume from epoch 0, row 0, 1 batches emitted
	// row 0, T=19; resume from epoch 0, row 2, 0 batches emitted
}
