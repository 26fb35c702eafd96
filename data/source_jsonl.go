package data

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"unicode/utf8"
)

// jsonlSource reads one JSON object per line. Rows are numbered by line (0-based, blank
// lines included), so Position.Row+1 is the line an editor shows.
type jsonlSource struct {
	path    string
	f       *os.File
	gz      bool
	maxLine int
	lay     *layout
	sc      *bufio.Scanner
	line    int64 // lines scanned so far
	skip    int64 // lines to pass over after a seek
}

func openJSONL(path string, gz bool, opt Options) (source, []string, error) {
	f, err := openFile(path)
	if err != nil {
		return nil, nil, err
	}
	s := &jsonlSource{path: path, f: f, gz: gz, maxLine: opt.MaxLineBytes}
	cols, err := s.columns()
	if err == nil && cols == nil {
		err = noUsableRows(path, Stats{}, opt.Part)
	}
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	return s, cols, nil
}

// columns lists the keys of the first object: JSONL has no schema but its rows.
func (s *jsonlSource) columns() ([]string, error) {
	if err := s.restart(nil); err != nil {
		return nil, err
	}
	defer s.restart(nil)
	for {
		line, err := s.scan()
		if err == io.EOF {
			return nil, nil // an empty file
		}
		if err != nil {
			return nil, err
		}
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		var obj map[string]json.RawMessage
		if err := json.Unmarshal(line, &obj); err != nil {
			return nil, s.lineError("", jsonProblem(err))
		}
		return slices.Sorted(maps.Keys(obj)), nil
	}
}

func (s *jsonlSource) bind(l *layout) error {
	s.lay = l
	return nil
}

func (s *jsonlSource) numRows() int64 { return -1 }
func (s *jsonlSource) chunks() int    { return 1 }

func (s *jsonlSource) restart([]int) error {
	if _, err := s.f.Seek(0, io.SeekStart); err != nil {
		return fileError(s.path, "", err)
	}
	var r io.Reader = s.f
	if s.gz {
		z, err := gzip.NewReader(bufio.NewReader(s.f))
		if err != nil {
			return fileError(s.path, "", fmt.Errorf("not a readable gzip file: %w", err))
		}
		r = z
	}
	s.sc = bufio.NewScanner(r)
	s.sc.Buffer(make([]byte, 0, min(64<<10, s.maxLine)), s.maxLine)
	s.line, s.skip = 0, 0
	return nil
}

func (s *jsonlSource) seek(row int64) error {
	if err := s.restart(nil); err != nil {
		return err
	}
	s.skip = row
	return nil
}

// scan returns the next line, which stays valid until the next scan.
func (s *jsonlSource) scan() ([]byte, error) {
	if s.sc.Scan() {
		s.line++
		return s.sc.Bytes(), nil
	}
	err := s.sc.Err()
	switch {
	case err == nil:
		return nil, io.EOF
	case errors.Is(err, bufio.ErrTooLong):
		s.line++
		return nil, s.lineError("", fmt.Errorf("line longer than %d bytes; raise Options.MaxLineBytes if it is meant to be", s.maxLine))
	}
	return nil, s.lineError("", err)
}

func (s *jsonlSource) lineError(field string, err error) error {
	return &Error{Pos: Position{File: s.path, Row: s.line - 1}, Line: s.line, Field: field, Err: err}
}

func (s *jsonlSource) next() (rawRow, error) {
	for {
		line, err := s.scan()
		if err != nil {
			return rawRow{}, err
		}
		if s.skip > 0 {
			s.skip--
			continue
		}
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		return s.parse(line)
	}
}

func (s *jsonlSource) parse(line []byte) (rawRow, error) {
	row := rawRow{row: s.line - 1, line: s.line}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(line, &obj); err != nil {
		return rawRow{}, s.lineError("", jsonProblem(err))
	}
	if s.lay.messages != "" {
		if raw, ok := obj[s.lay.messages]; ok {
			// Decoding replaces invalid UTF-8 with U+FFFD, so check the bytes first.
			row.invalidUTF8 = !utf8.Valid(raw)
			var msgs []struct{ Role, Content *string }
			if err := json.Unmarshal(raw, &msgs); err != nil {
				return rawRow{}, s.lineError(s.lay.messages, fmt.Errorf("column %q: got %s, want a list of {\"role\", \"content\"} string objects", s.lay.messages, jsonKind(raw)))
			}
			if msgs != nil {
				row.messages = make([]Message, len(msgs))
				for i, m := range msgs {
					if m.Role != nil {
						row.messages[i].Role = internRole(*m.Role)
					}
					if m.Content != nil {
						row.messages[i].Content = *m.Content
					}
				}
			}
		}
	}
	for _, f := range []struct {
		name string
		dst  *string
	}{{s.lay.prompt, &row.prompt}, {s.lay.response, &row.response}, {s.lay.chosen, &row.chosen}, {s.lay.reject, &row.rejected}} {
		raw, ok := obj[f.name]
		if f.name == "" || !ok {
			continue
		}
		row.invalidUTF8 = row.invalidUTF8 || !utf8.Valid(raw)
		var v *string
		if err := json.Unmarshal(raw, &v); err != nil {
			return rawRow{}, s.lineError(f.name, fmt.Errorf("column %q: got %s, want a string", f.name, jsonKind(raw)))
		}
		if v != nil {
			*f.dst = *v
		}
	}
	return row, nil
}

// jsonProblem rewords encoding/json's errors about a whole line.
func jsonProblem(err error) error {
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syntax):
		return fmt.Errorf("invalid JSON at byte %d: %v", syntax.Offset, syntax)
	case errors.As(err, &typ):
		return fmt.Errorf("got a JSON %s, want an object per line", typ.Value)
	}
	return err
}

// jsonKind names the kind of a JSON value for error messages.
func jsonKind(raw json.RawMessage) string {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return "nothing"
	}
	switch raw[0] {
	case '"':
		return "a string"
	case '{':
		return "an object"
	case '[':
		return "an array"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	}
	return "a number"
}

func (s *jsonlSource) close() error { return s.f.Close() }
