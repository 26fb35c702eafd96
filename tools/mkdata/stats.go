package main

import (
	"fmt"
	"io"
	"sort"
	"strings"
)

// lengthStats summarises response lengths in words.
type lengthStats struct {
	Count                   int
	Min, P10, P50, P90, Max int
	Mean                    float64
}

// newLengthStats uses nearest-rank percentiles.
func newLengthStats(texts []string) lengthStats {
	if len(texts) == 0 {
		return lengthStats{}
	}
	counts := make([]int, len(texts))
	sum := 0
	for i, t := range texts {
		counts[i] = wordCount(t)
		sum += counts[i]
	}
	sort.Ints(counts)
	rank := func(p float64) int {
		i := int(p*float64(len(counts))+0.999999) - 1
		return counts[max(0, min(i, len(counts)-1))]
	}
	return lengthStats{
		Count: len(counts),
		Min:   counts[0], P10: rank(0.10), P50: rank(0.50), P90: rank(0.90), Max: counts[len(counts)-1],
		Mean: float64(sum) / float64(len(counts)),
	}
}

// summaryLine is one row of the printed summary table.
type summaryLine struct {
	File     string
	Rows     int
	Measured string // which texts the lengths are of
	Lengths  lengthStats
}

func assistantTurns(rows []conversation) []string {
	var out []string
	for _, r := range rows {
		for _, m := range r.Messages {
			if m.Role == roleAssistant {
				out = append(out, m.Content)
			}
		}
	}
	return out
}

func multiTurnRows(rows []conversation) int {
	n := 0
	for _, r := range rows {
		if len(r.Messages) > 2 {
			n++
		}
	}
	return n
}

// finalAnswers returns the text after the last "\n\nAssistant: " of each transcript.
func finalAnswers(rows []preference, chosen bool) []string {
	out := make([]string, len(rows))
	for i, r := range rows {
		t := r.Rejected
		if chosen {
			t = r.Chosen
		}
		out[i] = t[strings.LastIndex(t, "\n\nAssistant: ")+len("\n\nAssistant: "):]
	}
	return out
}

// printSummary writes a Markdown table, ready to paste into testdata/data/README.md.
func printSummary(w io.Writer, lines []summaryLine) {
	fmt.Fprintln(w, "| file | rows | lengths of | n | min | p10 | p50 | p90 | max | mean |")
	fmt.Fprintln(w, "|---|---:|---|---:|---:|---:|---:|---:|---:|---:|")
	for _, l := range lines {
		s := l.Lengths
		fmt.Fprintf(w, "| %s | %d | %s | %d | %d | %d | %d | %d | %d | %.1f |\n",
			l.File, l.Rows, l.Measured, s.Count, s.Min, s.P10, s.P50, s.P90, s.Max, s.Mean)
	}
}
