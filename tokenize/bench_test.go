package tokenize

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// instructTexts returns the message contents of testdata/data/dict_instruct.jsonl.
func instructTexts(b *testing.B) []string {
	f, err := os.Open(filepath.Join("..", "testdata", "data", "dict_instruct.jsonl"))
	if err != nil {
		b.Skipf("no instruct data: %v", err)
	}
	defer f.Close()
	var texts []string
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 64<<20)
	for sc.Scan() {
		var row struct {
			Messages []instructMessage `json:"messages"`
		}
		if err := json.Unmarshal(sc.Bytes(), &row); err != nil {
			b.Fatal(err)
		}
		for _, m := range row.Messages {
			texts = append(texts, m.Content)
		}
	}
	if err := sc.Err(); err != nil {
		b.Fatal(err)
	}
	return texts
}

type instructMessage struct {
	Content string `json:"content"`
}

// BenchmarkEncode encodes every message of the instruct data set per iteration and reports
// tokens/s and input MB/s.
func BenchmarkEncode(b *testing.B) {
	texts := instructTexts(b)
	var textBytes int64
	for _, s := range texts {
		textBytes += int64(len(s))
	}
	for _, name := range []string{"dict-bpe", "llama2"} {
		b.Run(name, func(b *testing.B) {
			tok := mustLoad(b, name)
			b.SetBytes(textBytes)
			tokens := 0
			b.ResetTimer()
			for range b.N {
				for _, s := range texts {
					ids, err := tok.Encode(s, false)
					if err != nil {
						b.Fatal(err)
					}
					tokens += len(ids)
				}
			}
			b.ReportMetric(float64(tokens)/b.Elapsed().Seconds(), "tokens/s")
			b.ReportMetric(float64(tokens)/float64(b.N), "tokens/op")
		})
	}
}
