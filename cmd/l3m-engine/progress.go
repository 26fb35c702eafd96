package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"time"
)

// metricsLog appends one JSON object per line to metrics.jsonl.
type metricsLog struct {
	f *os.File
	w *bufio.Writer
}

// openMetrics opens path for appending; when resuming from step, lines of later steps
// (written by the interrupted run after its last checkpoint) are dropped first.
func openMetrics(path string, resumeStep int) (*metricsLog, error) {
	if resumeStep >= 0 {
		if err := truncateMetrics(path, resumeStep); err != nil {
			return nil, err
		}
	}
	flags := os.O_CREATE | os.O_WRONLY | os.O_APPEND
	if resumeStep < 0 {
		flags |= os.O_TRUNC
	}
	f, err := os.OpenFile(path, flags, 0o644)
	if err != nil {
		return nil, err
	}
	return &metricsLog{f: f, w: bufio.NewWriter(f)}, nil
}

func truncateMetrics(path string, step int) error {
	b, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		return err
	}
	var keep []string
	for _, line := range strings.Split(strings.TrimRight(string(b), "\n"), "\n") {
		var rec struct{ Step int }
		if line == "" || json.Unmarshal([]byte(line), &rec) != nil || rec.Step > step {
			continue
		}
		keep = append(keep, line)
	}
	out := strings.Join(keep, "\n")
	if out != "" {
		out += "\n"
	}
	return os.WriteFile(path, []byte(out), 0o644)
}

// write appends v and flushes, so the file is current if the process is killed.
func (m *metricsLog) write(v any) {
	b, err := json.Marshal(v)
	if err != nil {
		return
	}
	m.w.Write(append(b, '\n'))
	m.w.Flush()
}

func (m *metricsLog) Close() error {
	m.w.Flush()
	return m.f.Close()
}

// progress shows a progress bar with ETA on a terminal and plain log lines otherwise.
type progress struct {
	w     io.Writer
	tty   bool
	total int
	start time.Time
	first int
}

func newProgress(w *os.File, total, first int) *progress {
	st, err := w.Stat()
	tty := err == nil && st.Mode()&os.ModeCharDevice != 0
	return &progress{w: w, tty: tty, total: total, start: time.Now(), first: first}
}

func (p *progress) step(step int, msg string) {
	done := step - p.first
	eta := "?"
	if done > 0 {
		per := time.Since(p.start) / time.Duration(done)
		eta = (per * time.Duration(p.total-step)).Round(time.Second).String()
	}
	if !p.tty {
		fmt.Fprintf(p.w, "step %d/%d %s eta %s\n", step, p.total, msg, eta)
		return
	}
	const width = 30
	filled := width * step / max(p.total, 1)
	bar := strings.Repeat("=", filled) + strings.Repeat(" ", width-filled)
	fmt.Fprintf(p.w, "\r[%s] %d/%d %s eta %s\x1b[K", bar, step, p.total, msg, eta)
}

// line prints a message on its own line (ending a bar line first on a terminal).
func (p *progress) line(format string, args ...any) {
	if p.tty {
		fmt.Fprint(p.w, "\r\x1b[K")
	}
	fmt.Fprintf(p.w, format+"\n", args...)
}
