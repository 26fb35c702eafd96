package data

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

const testEOS = 1

// byteEncoder tokenizes bytes: the prompt's contents, then the response and an EOS, the
// part the loss sees.
func byteEncoder(ex Example) (Sequence, error) {
	var seq Sequence
	for _, m := range ex.Prompt {
		for _, c := range []byte(m.Content) {
			seq.IDs = append(seq.IDs, int32(c))
			seq.LossMask = append(seq.LossMask, false)
		}
	}
	for _, c := range []byte(ex.Response) {
		seq.IDs = append(seq.IDs, int32(c))
		seq.LossMask = append(seq.LossMask, true)
	}
	seq.IDs = append(seq.IDs, testEOS)
	seq.LossMask = append(seq.LossMask, true)
	return seq, nil
}

func newBatcherT(t testing.TB, s *Stream, enc EncodeFunc, opt BatchOptions) *Batcher {
	t.Helper()
	b, err := NewBatcher(s, enc, opt)
	require.NoError(t, err)
	return b
}

func allBatches(t testing.TB, b *Batcher) []Batch {
	t.Helper()
	var out []Batch
	for {
		batch, err := b.Next()
		if err == io.EOF {
			return out
		}
		require.NoError(t, err)
		out = append(out, batch)
	}
}

func TestBatcherPadsAndMasks(t *testing.T) {
	tb := table{cols: []string{"prompt", "response"}}.
		add("ab", "c").
		add("d", "efgh").
		add("i", "jk")
	path := writeAll(t, tb, 4)["jsonl"]
	b := newBatcherT(t, newStreamT(t, path, Options{ShuffleBuffer: 1}), byteEncoder, BatchOptions{Size: 2, PadID: 9})
	batches := allBatches(t, b)
	require.Len(t, batches, 2)
	require.Equal(t, Batch{
		B: 2, T: 6,
		IDs: []int64{
			'a', 'b', 'c', testEOS, 9, 9,
			'd', 'e', 'f', 'g', 'h', testEOS,
		},
		LossMask: []float32{
			0, 0, 1, 1, 0, 0,
			0, 1, 1, 1, 1, 1,
		},
		AttentionMask: []int64{
			1, 1, 1, 1, 0, 0,
			1, 1, 1, 1, 1, 1,
		},
		Rows: []Position{{path, 0}, {path, 1}},
	}, batches[0])
	require.Equal(t, Batch{
		B: 1, T: 4,
		IDs:           []int64{'i', 'j', 'k', testEOS},
		LossMask:      []float32{0, 1, 1, 1},
		AttentionMask: []int64{1, 1, 1, 1},
		Rows:          []Position{{path, 2}},
	}, batches[1], "the last batch is short")
	require.Equal(t, BatchStats{Batches: 2, Sequences: 3}, b.Stats())

	b = newBatcherT(t, newStreamT(t, path, Options{ShuffleBuffer: 1}), byteEncoder, BatchOptions{Size: 3, PadMultiple: 8})
	batch, err := b.Next()
	require.NoError(t, err)
	require.Equal(t, 8, batch.T, "T rounds up to a multiple of 8")
	require.Len(t, batch.IDs, 3*8)
	require.Equal(t, []int64{'a', 'b', 'c', testEOS, 0, 0, 0, 0}, batch.IDs[:8], "PadID defaults to 0")
}

func TestBatcherDrops(t *testing.T) {
	tb := table{cols: []string{"prompt", "response"}}.
		add("p", "short").
		add("p", "much too long for the limit").
		add("p", "ok").
		add("none", "x")
	path := writeAll(t, tb, 4)["parquet"]
	noLossForNone := func(ex Example) (Sequence, error) {
		seq, err := byteEncoder(ex)
		if ex.Prompt[0].Content == "none" {
			clear(seq.LossMask)
		}
		return seq, err
	}
	b := newBatcherT(t, newStreamT(t, path, Options{ShuffleBuffer: 1}), noLossForNone, BatchOptions{Size: 8, MaxTokens: 10})
	batches := allBatches(t, b)
	require.Len(t, batches, 1)
	require.Equal(t, []Position{{path, 0}, {path, 2}}, batches[0].Rows)
	require.Equal(t, BatchStats{Batches: 1, Sequences: 2, TooLong: 1, NoLoss: 1}, b.Stats())
}

func TestBatcherPairs(t *testing.T) {
	tb := table{cols: []string{"prompt", "chosen", "rejected"}}.
		add("p", "yes", "no").
		add("p", "fine", "this rejected response is far too long").
		add("q", "a", "bc")
	path := writeAll(t, tb, 4)["parquet"]
	b := newBatcherT(t, newStreamT(t, path, Options{ShuffleBuffer: 1}), byteEncoder, BatchOptions{Size: 2, MaxTokens: 10, Pairs: true})
	batches := allBatches(t, b)
	require.Len(t, batches, 1)
	batch := batches[0]
	require.Equal(t, 4, batch.B, "two rows per pair")
	require.Equal(t, []Position{{path, 0}, {path, 0}, {path, 2}, {path, 2}}, batch.Rows)
	require.Equal(t, []int64{'p', 'y', 'e', 's', testEOS}, batch.IDs[:5], "chosen first")
	require.Equal(t, []int64{'p', 'n', 'o', testEOS, 0}, batch.IDs[5:10], "then rejected")
	require.Equal(t, int64(1), b.Stats().TooLong, "a pair goes when either side is too long")

	_, err := NewBatcher(newStreamT(t, writeAll(t, ultraChat(3), 4)["parquet"], Options{}), byteEncoder, BatchOptions{Pairs: true})
	require.ErrorContains(t, err, "has no rejected responses")
}

func TestBatcherEncodeErrors(t *testing.T) {
	path := writeAll(t, ultraChat(3), 4)["parquet"]
	failing := func(Example) (Sequence, error) { return Sequence{}, errors.New("unknown token") }
	_, err := newBatcherT(t, newStreamT(t, path, Options{ShuffleBuffer: 1}), failing, BatchOptions{}).Next()
	require.EqualError(t, err, "data: "+path+": row 0: tokenizing: unknown token")

	mismatched := func(Example) (Sequence, error) { return Sequence{IDs: []int32{1, 2}, LossMask: []bool{true}}, nil }
	_, err = newBatcherT(t, newStreamT(t, path, Options{ShuffleBuffer: 1}), mismatched, BatchOptions{}).Next()
	require.ErrorContains(t, err, "tokenizing gave 2 IDs but 1 loss-mask entries")

	_, err = NewBatcher(newStreamT(t, path, Options{}), byteEncoder, BatchOptions{Size: -1})
	require.Error(t, err)
}

// TestResumeGivesSameBatches is the checkpoint contract: a run restored from the State
// saved after any batch continues with exactly the batches of an uninterrupted run.
func TestResumeGivesSameBatches(t *testing.T) {
	paths := writeAll(t, ultraChat(157), 16)
	for _, format := range []string{"parquet", "jsonl"} {
		t.Run(format, func(t *testing.T) {
			path := paths[format]
			opt := Options{Seed: 11, ShuffleBuffer: 23, Epochs: 2, Split: Split{Val: 0.1}}
			bopt := BatchOptions{Size: 8, MaxTokens: 40, PadMultiple: 8}

			b := newBatcherT(t, newStreamT(t, path, opt), byteEncoder, bopt)
			var full []Batch
			states := []State{b.State()}
			for {
				batch, err := b.Next()
				if err == io.EOF {
					break
				}
				require.NoError(t, err)
				full = append(full, batch)
				states = append(states, b.State())
			}
			require.Positive(t, b.Stats().TooLong, "the test exercises dropped examples")
			require.Greater(t, len(full), 20)

			for _, k := range []int{0, 1, 7, len(full) / 2, len(full) * 3 / 4, len(full) - 1, len(full)} {
				saved, err := json.Marshal(states[k])
				require.NoError(t, err)
				var st State
				require.NoError(t, json.Unmarshal(saved, &st))

				s := newStreamT(t, path, opt)
				require.NoError(t, s.Restore(st))
				resumed := allBatches(t, newBatcherT(t, s, byteEncoder, bopt))
				if k == len(full) {
					require.Empty(t, resumed)
				} else {
					require.Equal(t, full[k:], resumed, "resumed after batch %d (state %s)", k, saved)
				}
			}
		})
	}
}

func TestRestoreRefusesOtherOptions(t *testing.T) {
	path := writeAll(t, ultraChat(20), 8)["parquet"]
	s := newStreamT(t, path, Options{Seed: 1})
	for range 5 {
		_, err := s.NextExample()
		require.NoError(t, err)
	}
	st := s.State()
	require.Equal(t, 0, st.Epoch)
	require.Equal(t, int64(5), st.Consumed)

	other := newStreamT(t, path, Options{Seed: 2})
	require.ErrorContains(t, other.Restore(st), "state was saved with other data options")

	same := newStreamT(t, path, Options{Seed: 1})
	require.ErrorContains(t, same.Restore(State{Epoch: 1, Config: st.Config}), "outside a run of 1 epochs")
	require.ErrorContains(t, same.Restore(State{Consumed: 21, Config: st.Config}), "the epoch has only 20")
	require.NoError(t, same.Restore(st), "more epochs than the saved run had is fine")
}

func ExampleBatcher() {
	s, err := NewStream(filepath.Join("testdata", "chat.jsonl"), Options{Seed: 1})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer s.Close()
	// A toy tokenizer: one token per word, the response's tokens and EOS (ID 1) in the loss.
	encode := func(ex Example) (Sequence, error) {
		var seq Sequence
		for _, m := range ex.Prompt {
			for range strings.Fields(m.Content) {
				seq.IDs, seq.LossMask = append(seq.IDs, 7), append(seq.LossMask, false)
			}
		}
		for range strings.Fields(ex.Response) {
			seq.IDs, seq.LossMask = append(seq.IDs, 8), append(seq.LossMask, true)
		}
		seq.IDs, seq.LossMask = append(seq.IDs, 1), append(seq.LossMask, true)
		return seq, nil
	}
	b, err := NewBatcher(s, encode, BatchOptions{Size: 2, PadMultiple: 4})
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
		fmt.Printf("B=%d T=%d\n", batch.B, batch.T)
		for i, pos := range batch.Rows {
			fmt.Println(pos.Row, batch.IDs[i*batch.T:(i+1)*batch.T], batch.LossMask[i*batch.T:(i+1)*batch.T])
		}
		st := b.State() // save it with the checkpoint; Stream.Restore resumes here
		fmt.Printf("state: epoch %d, %d rows consumed\n", st.Epoch, st.Consumed)
	}
	fmt.Println(s.Stats())
	// Output:
	// B=2 T=12
	// 0 [7 7 8 8 1 0 0 0 0 0 0 0] [0 0 1 1 1 0 0 0 0 0 0 0]
	// 2 [7 7 7 7 7 7 8 8 1 0 0 0] [0 0 0 0 0 0 1 1 1 0 0 0]
	// state: epoch 0, 2 rows consumed
	// 3 read, 2 used, skipped: 1 no assistant turn
}
