package main

import (
	"bufio"
	"compress/gzip"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// dictSource names one dictd database and the Debian package that installs it, so that a
// missing file can be answered with the command that fixes it.
type dictSource struct {
	Name       string // base name of the .index and .dict.dz files
	AptPackage string // Debian package that ships them
}

var (
	wordNetSource = dictSource{Name: "wn", AptPackage: "dict-wn"}
	foldocSource  = dictSource{Name: "foldoc", AptPackage: "dict-foldoc"}
)

func (s dictSource) indexPath(dir string) string { return filepath.Join(dir, s.Name+".index") }
func (s dictSource) dataPath(dir string) string  { return filepath.Join(dir, s.Name+".dict.dz") }

// article is one dictd entry: the bytes an index line points at, plus every index key that
// points at them (FOLDOC lists aliases such as "C" and "NB" as separate keys of one article).
type article struct {
	Headword string   // first line of the article, in its original case
	Keys     []string // index headwords (lower case) that resolve to this article
	Text     string   // the whole article, headword lines included
}

// checkDictionaries reports every missing file at once, with the apt-get line that installs it.
func checkDictionaries(dir string, sources ...dictSource) error {
	var missing, packages []string
	for _, s := range sources {
		absent := false
		for _, path := range []string{s.indexPath(dir), s.dataPath(dir)} {
			if _, err := os.Stat(path); err != nil {
				missing = append(missing, path)
				absent = true
			}
		}
		if absent {
			packages = append(packages, s.AptPackage)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	return fmt.Errorf("mkdata: dictionary files not found: %s; install them with `apt-get install -y %s` or pass -dictd DIR",
		strings.Join(missing, ", "), strings.Join(packages, " "))
}

// readDictionary loads every article of a dictd database, one per distinct (offset, length),
// sorted by headword so that sampling does not depend on the index file's order.
func readDictionary(dir string, s dictSource) ([]article, error) {
	data, err := readDictzip(s.dataPath(dir))
	if err != nil {
		return nil, err
	}
	indexPath := s.indexPath(dir)
	f, err := os.Open(indexPath)
	if err != nil {
		return nil, err
	}
	defer f.Close()

	type span struct{ offset, length int }
	byspan := make(map[span]int)
	var articles []article
	scanner := bufio.NewScanner(f)
	scanner.Buffer(make([]byte, 64*1024), 1024*1024)
	for line := 1; scanner.Scan(); line++ {
		fields := strings.Split(scanner.Text(), "\t")
		if len(fields) < 3 {
			return nil, fmt.Errorf("mkdata: %s:%d: want headword<TAB>offset<TAB>length, got %q", indexPath, line, scanner.Text())
		}
		key := fields[0]
		if strings.HasPrefix(key, "00-database") || strings.HasPrefix(key, "00database") {
			continue
		}
		offset, err := decodeDictdNumber(fields[1])
		if err != nil {
			return nil, fmt.Errorf("mkdata: %s:%d: offset: %w", indexPath, line, err)
		}
		length, err := decodeDictdNumber(fields[2])
		if err != nil {
			return nil, fmt.Errorf("mkdata: %s:%d: length: %w", indexPath, line, err)
		}
		if offset+length > len(data) {
			return nil, fmt.Errorf("mkdata: %s:%d: entry %q spans bytes %d..%d but %s holds %d bytes",
				indexPath, line, key, offset, offset+length, s.dataPath(dir), len(data))
		}
		sp := span{offset, length}
		if i, ok := byspan[sp]; ok {
			articles[i].Keys = append(articles[i].Keys, key)
			continue
		}
		text := string(data[offset : offset+length])
		headword, _, _ := strings.Cut(text, "\n")
		byspan[sp] = len(articles)
		articles = append(articles, article{Headword: strings.TrimSpace(headword), Keys: []string{key}, Text: text})
	}
	if err := scanner.Err(); err != nil {
		return nil, fmt.Errorf("mkdata: %s: %w", indexPath, err)
	}
	sort.SliceStable(articles, func(i, j int) bool {
		if articles[i].Headword != articles[j].Headword {
			return articles[i].Headword < articles[j].Headword
		}
		return articles[i].Text < articles[j].Text
	})
	return articles, nil
}

// readDictzip decompresses a .dict.dz file; dictzip is gzip with a seek table in the extra
// field, which compress/gzip skips.
func readDictzip(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		return nil, fmt.Errorf("mkdata: %s: %w", path, err)
	}
	data, err := io.ReadAll(zr)
	if err != nil {
		return nil, fmt.Errorf("mkdata: %s: %w", path, err)
	}
	return data, nil
}

const dictdDigits = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"

// decodeDictdNumber reads dictd's index numbers: base 64, most significant digit first, in
// the alphabet of dictdDigits, with no padding.
func decodeDictdNumber(s string) (int, error) {
	if s == "" {
		return 0, fmt.Errorf("empty number")
	}
	n := 0
	for i := 0; i < len(s); i++ {
		d := strings.IndexByte(dictdDigits, s[i])
		if d < 0 {
			return 0, fmt.Errorf("%q: byte %q is not a dictd base64 digit", s, s[i])
		}
		if n > (1<<40)/64 {
			return 0, fmt.Errorf("%q: number too large", s)
		}
		n = n*64 + d
	}
	return n, nil
}
