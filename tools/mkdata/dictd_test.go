package main

import (
	"compress/gzip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestDecodeDictdNumber(t *testing.T) {
	tests := []struct {
		in   string
		want int
	}{
		{"A", 0}, {"B", 1}, {"/", 63}, {"BA", 64}, {"ew8I", 30*64*64*64 + 48*64*64 + 60*64 + 8},
	}
	for _, tt := range tests {
		got, err := decodeDictdNumber(tt.in)
		require.NoError(t, err, tt.in)
		assert.Equal(t, tt.want, got, tt.in)
	}
	for _, bad := range []string{"", "A=", "A A"} {
		_, err := decodeDictdNumber(bad)
		assert.Error(t, err, bad)
	}
}

// encodeDictdNumber is decodeDictdNumber's inverse, for building test indexes.
func encodeDictdNumber(n int) string {
	s := string(dictdDigits[n%64])
	for n /= 64; n > 0; n /= 64 {
		s = string(dictdDigits[n%64]) + s
	}
	return s
}

func TestReadDictionary(t *testing.T) {
	dir := t.TempDir()
	articles := []string{"zebra\n    n 1: striped horse\n", "C\nNB\n\n   <language> A language.\n", "apple\n    n 1: fruit\n"}
	var data strings.Builder
	var index strings.Builder
	index.WriteString("00-database-info\tA\tB\n")
	for i, a := range articles {
		entry := encodeDictdNumber(data.Len()) + "\t" + encodeDictdNumber(len(a))
		head, _, _ := strings.Cut(a, "\n")
		index.WriteString(strings.ToLower(head) + "\t" + entry + "\n")
		if i == 1 {
			index.WriteString("nb\t" + entry + "\n")
		}
		data.WriteString(a)
	}
	src := dictSource{Name: "test", AptPackage: "dict-test"}
	require.NoError(t, os.WriteFile(src.indexPath(dir), []byte(index.String()), 0o644))
	f, err := os.Create(src.dataPath(dir))
	require.NoError(t, err)
	zw := gzip.NewWriter(f)
	_, err = zw.Write([]byte(data.String()))
	require.NoError(t, err)
	require.NoError(t, zw.Close())
	require.NoError(t, f.Close())

	got, err := readDictionary(dir, src)
	require.NoError(t, err)
	require.Len(t, got, 3)
	assert.Equal(t, []string{"C", "apple", "zebra"}, []string{got[0].Headword, got[1].Headword, got[2].Headword})
	assert.Equal(t, []string{"c", "nb"}, got[0].Keys)
	assert.Equal(t, articles[1], got[0].Text)
}

func TestCheckDictionariesNamesFilesAndPackages(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "wn.index"), nil, 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "wn.dict.dz"), nil, 0o644))
	assert.NoError(t, checkDictionaries(dir, wordNetSource))

	err := checkDictionaries(dir, wordNetSource, foldocSource)
	require.Error(t, err)
	msg := err.Error()
	assert.Contains(t, msg, filepath.Join(dir, "foldoc.index"))
	assert.Contains(t, msg, filepath.Join(dir, "foldoc.dict.dz"))
	assert.Contains(t, msg, "apt-get install -y dict-foldoc")
	assert.NotContains(t, msg, "wn.index")

	err = run(t.TempDir(), filepath.Join(dir, "absent"), 1, nil)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "apt-get install -y dict-wn dict-foldoc")
}
