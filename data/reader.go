package data

import (
	"cmp"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"slices"
	"strings"
)

// Reader reads the usable rows of one file in file order, a bounded batch at a time.
type Reader struct {
	path  string
	opt   Options
	lay   layout
	src   source
	stats Stats
	// fromStart is true while the reader has read from row 0 on, so that reaching the end
	// with nothing used means the file has no usable rows rather than that SeekRow skipped
	// them.
	fromStart bool
}

// source reads raw rows from one file format.
type source interface {
	// bind prepares to read the layout's columns, checking their types.
	bind(l *layout) error
	// numRows is the file's row count, -1 when unknown without reading it all.
	numRows() int64
	// chunks is how many independently readable pieces (Parquet row groups) the file has.
	chunks() int
	// restart reads again from the start, visiting the chunks in order (nil: file order).
	restart(order []int) error
	// seek moves to a row, in file order.
	seek(row int64) error
	// next returns the next row, or io.EOF.
	next() (rawRow, error)
	close() error
}

// Stats counts what a Reader did with the rows it read.
type Stats struct {
	Read      int64            // rows read
	Used      int64            // rows returned
	OtherPart int64            // rows that belong to another part of the split
	Skipped   map[string]int64 // rows skipped, by reason (the Skip... constants)
}

// SkippedTotal is the number of skipped rows, all reasons together.
func (s Stats) SkippedTotal() int64 {
	var n int64
	for _, c := range s.Skipped {
		n += c
	}
	return n
}

// String reads like "120 read, 100 used, 12 in other parts, skipped: 5 empty response,
// 3 invalid UTF-8".
func (s Stats) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d read, %d used", s.Read, s.Used)
	if s.OtherPart > 0 {
		fmt.Fprintf(&b, ", %d in other parts", s.OtherPart)
	}
	b.WriteString(", skipped: ")
	b.WriteString(s.skippedString())
	return b.String()
}

// skippedString lists the skip reasons, most frequent first.
func (s Stats) skippedString() string {
	if len(s.Skipped) == 0 {
		return "none"
	}
	reasons := slices.SortedFunc(maps.Keys(s.Skipped), func(a, b string) int {
		if c := cmp.Compare(s.Skipped[b], s.Skipped[a]); c != 0 {
			return c
		}
		return strings.Compare(a, b)
	})
	for i, r := range reasons {
		reasons[i] = fmt.Sprintf("%d %s", s.Skipped[r], r)
	}
	return strings.Join(reasons, ", ")
}

func (s Stats) clone() Stats {
	c := s
	c.Skipped = make(map[string]int64, len(s.Skipped))
	maps.Copy(c.Skipped, s.Skipped)
	return c
}

// Open opens a dataset file for reading. The format follows the extension: .parquet (or
// .pq), .jsonl (.ndjson, .json; each may end in .gz) or .arrow (.feather, .ipc: Arrow
// IPC file or stream). The schema is detected from the columns unless opt names one.
func Open(path string, opt Options) (*Reader, error) {
	opt, err := opt.withDefaults()
	if err != nil {
		return nil, fileError(path, "", err)
	}
	src, cols, err := openSource(path, opt)
	if err != nil {
		return nil, err
	}
	lay, err := resolveLayout(path, cols, opt)
	if err == nil {
		err = src.bind(&lay)
	}
	if err != nil {
		src.close()
		return nil, err
	}
	return &Reader{path: path, opt: opt, lay: lay, src: src, fromStart: true}, nil
}

// openSource opens the file in the format its extension names and lists its columns.
func openSource(path string, opt Options) (source, []string, error) {
	name := strings.ToLower(path)
	name = strings.TrimSuffix(name, ".gz")
	gz := name != strings.ToLower(path)
	ext := name[strings.LastIndexByte(name, '.')+1:]
	if gz && ext != "jsonl" && ext != "ndjson" && ext != "json" {
		return nil, nil, fileError(path, "", errors.New("only JSONL files may be gzip-compressed"))
	}
	switch ext {
	case "parquet", "pq":
		return openParquet(path, opt)
	case "jsonl", "ndjson", "json":
		return openJSONL(path, gz, opt)
	case "arrow", "feather", "ipc":
		return openArrowIPC(path, opt)
	}
	return nil, nil, fileError(path, "", fmt.Errorf("unknown file type %q (want .parquet, .jsonl, .arrow or .feather)", "."+ext))
}

// openFile opens path, reporting a failure without repeating the path, which the Error
// already carries.
func openFile(path string) (*os.File, error) {
	f, err := os.Open(path)
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return nil, fileError(path, "", err)
	}
	if fi, err := f.Stat(); err == nil && fi.IsDir() {
		f.Close()
		return nil, fileError(path, "", errors.New("is a directory, want a file"))
	}
	return f, nil
}

// Schema is the schema the reader resolved: one of the Schema... constants but "auto".
func (r *Reader) Schema() string { return r.lay.schema }

// Pairs reports whether the rows are preference pairs, which NextPair needs.
func (r *Reader) Pairs() bool { return r.lay.pairs() }

// NumRows is the number of rows in the file before any skipping, or -1 where the format
// cannot tell without reading it all (JSONL, Arrow streams).
func (r *Reader) NumRows() int64 { return r.src.numRows() }

// Stats counts the rows read since Open (or since the Stream's current epoch began).
func (r *Reader) Stats() Stats { return r.stats.clone() }

// NextExample returns the next usable row, or io.EOF after the last one. Rows of
// preference pairs give their chosen response, for fine-tuning on it. A file with no
// usable rows at all is an error, not io.EOF.
func (r *Reader) NextExample() (Example, error) {
	it, err := r.next()
	if err != nil {
		return Example{}, err
	}
	return it.example(), nil
}

// NextPair returns the next preference pair, or io.EOF after the last one. The schema
// must have rejected responses (hh or prompt-chosen-rejected).
func (r *Reader) NextPair() (Pair, error) {
	if err := r.checkPairs(); err != nil {
		return Pair{}, err
	}
	it, err := r.next()
	if err != nil {
		return Pair{}, err
	}
	return it.pair(), nil
}

func (r *Reader) checkPairs() error {
	if r.lay.pairs() {
		return nil
	}
	return fileError(r.path, "", fmt.Errorf("schema %q has no rejected responses; preference pairs need chosen and rejected columns (pass --schema hh or prompt-chosen-rejected)", r.lay.schema))
}

// SeekRow moves the reader to a row (0-based, in file order) so that reading resumes there.
// A Parquet seek decodes at most the start of one row group; JSONL and Arrow seeks read
// the rows before the target.
func (r *Reader) SeekRow(row int64) error {
	if row < 0 {
		return fileError(r.path, "", fmt.Errorf("seek to negative row %d", row))
	}
	if err := r.src.seek(row); err != nil {
		return err
	}
	r.fromStart = row == 0
	return nil
}

// Close releases the file.
func (r *Reader) Close() error { return r.src.close() }

// restart begins a new pass over the file with fresh Stats, visiting chunks in order.
func (r *Reader) restart(order []int) error {
	r.stats = Stats{}
	r.fromStart = true
	return r.src.restart(order)
}

func (r *Reader) next() (item, error) {
	for {
		raw, err := r.src.next()
		if err == io.EOF {
			if r.fromStart && r.stats.Used == 0 {
				return item{}, noUsableRows(r.path, r.stats, r.opt.Part)
			}
			return item{}, io.EOF
		}
		if err != nil {
			return item{}, err
		}
		r.stats.Read++
		if r.opt.Part != PartAll && r.lay.partOf(&raw, r.opt.Split) != r.opt.Part {
			r.stats.OtherPart++
			continue
		}
		it, reason := r.lay.convert(&raw, r.path, r.opt.Seed)
		if reason != "" {
			if r.stats.Skipped == nil {
				r.stats.Skipped = map[string]int64{}
			}
			r.stats.Skipped[reason]++
			continue
		}
		r.stats.Used++
		return it, nil
	}
}

func noUsableRows(path string, s Stats, part string) error {
	msg := fmt.Sprintf("no usable rows (%d read", s.Read)
	if s.OtherPart > 0 {
		msg += fmt.Sprintf(", %d in parts other than %q", s.OtherPart, part)
	}
	msg += ", skipped: " + s.skippedString() + ")"
	return fileError(path, "", errors.New(msg))
}
