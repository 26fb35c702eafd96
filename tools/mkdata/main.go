// Command mkdata builds the small instruction and preference datasets under testdata/data from
// Debian's dictd dictionaries: WordNet 3.0 (package dict-wn) and FOLDOC (package dict-foldoc).
//
// # Usage
//
//	apt-get install -y dict-wn dict-foldoc
//	go run ./tools/mkdata -out testdata/data
//
// # Outputs
//
// dict_instruct.{parquet,jsonl} follow the UltraChat schema (prompt, prompt_id, messages);
// dict_prefs_relevant and dict_prefs_concise follow the HH-RLHF schema (chosen, rejected).
// The same -seed and the same dictionary packages give byte-identical files.
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

func main() {
	out := flag.String("out", "testdata/data", "directory to write the datasets to")
	dictd := flag.String("dictd", "/usr/share/dictd", "directory holding wn.index, wn.dict.dz, foldoc.index and foldoc.dict.dz")
	seed := flag.Uint64("seed", 1, "seed of the random streams that pick headwords, templates and turns")
	flag.Parse()
	if err := run(*out, *dictd, *seed, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

func run(outDir, dictdDir string, seed uint64, stdout io.Writer) error {
	if err := checkDictionaries(dictdDir, wordNetSource, foldocSource); err != nil {
		return err
	}
	wnArticles, err := readDictionary(dictdDir, wordNetSource)
	if err != nil {
		return err
	}
	foArticles, err := readDictionary(dictdDir, foldocSource)
	if err != nil {
		return err
	}
	wn, fo := wordNetTopics(wnArticles), foldocTopics(foArticles)

	instruct := buildInstruct(seed, wn, fo)
	relevant := buildRelevantPrefs(seed, wn, fo)
	concise := buildConcisePrefs(seed, wn, fo)

	if err := os.MkdirAll(outDir, 0o755); err != nil {
		return err
	}
	path := func(name string) string { return filepath.Join(outDir, name) }
	for _, step := range []func() error{
		func() error { return writeInstructParquet(path("dict_instruct.parquet"), instruct) },
		func() error { return writeJSONL(path("dict_instruct.jsonl"), instruct) },
		func() error { return writePreferenceParquet(path("dict_prefs_relevant.parquet"), relevant) },
		func() error { return writeJSONL(path("dict_prefs_relevant.jsonl"), relevant) },
		func() error { return writePreferenceParquet(path("dict_prefs_concise.parquet"), concise) },
		func() error { return writeJSONL(path("dict_prefs_concise.jsonl"), concise) },
	} {
		if err := step(); err != nil {
			return err
		}
	}

	fmt.Fprintf(stdout, "mkdata: %d WordNet and %d FOLDOC topics; seed %d; wrote %s\n", len(wn.Topics), len(fo.Topics), seed, outDir)
	fmt.Fprintf(stdout, "dict_instruct: %d rows, %d multi-turn\n\n", len(instruct), multiTurnRows(instruct))
	printSummary(stdout, []summaryLine{
		{"dict_instruct", len(instruct), "assistant turns", newLengthStats(assistantTurns(instruct))},
		{"dict_prefs_relevant", len(relevant), "chosen answers", newLengthStats(finalAnswers(relevant, true))},
		{"dict_prefs_relevant", len(relevant), "rejected answers", newLengthStats(finalAnswers(relevant, false))},
		{"dict_prefs_concise", len(concise), "chosen answers", newLengthStats(finalAnswers(concise, true))},
		{"dict_prefs_concise", len(concise), "rejected answers", newLengthStats(finalAnswers(concise, false))},
	})
	return nil
}
