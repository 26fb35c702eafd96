package data

import (
	"context"
	"fmt"
	"io"
	"slices"
	"sort"

	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
)

// parquetSource streams a Parquet file one row group, and within it one record batch of
// Options.BatchRows rows, at a time. Only the layout's columns are decoded, and pages are
// read through a small buffer rather than a whole column chunk at once, so memory is
// bounded by the batch and a page, not by the file or the row group.
type parquetSource struct {
	path    string
	pf      *file.Reader
	fr      *pqarrow.FileReader
	cols    arrowColumns
	leaves  []int   // leaf columns of the layout's fields
	rgStart []int64 // first row of each row group, then the file's row count

	order   []int // row groups in visiting order
	oi      int   // next index into order
	rg      int   // row group being read
	rr      pqarrow.RecordReader
	nextRow int64 // file row of the next batch's first row
	skip    int64 // rows of the current row group still to pass over after a seek
	rows    []rawRow
	ri      int
}

func openParquet(path string, opt Options) (source, []string, error) {
	f, err := openFile(path)
	if err != nil {
		return nil, nil, err
	}
	props := parquet.NewReaderProperties(memory.DefaultAllocator)
	props.BufferedStreamEnabled = true
	s := &parquetSource{path: path}
	err = catch(func() (err error) {
		s.pf, err = file.NewParquetReader(f, file.WithReadProps(props))
		return err
	})
	if err != nil {
		f.Close()
		return nil, nil, fileError(path, "", fmt.Errorf("not a readable Parquet file: %w", err))
	}
	var names []string
	err = catch(func() error {
		fr, err := pqarrow.NewFileReader(s.pf, pqarrow.ArrowReadProperties{BatchSize: int64(opt.BatchRows), PreAllocBinaryData: true}, memory.DefaultAllocator)
		if err != nil {
			return err
		}
		s.fr = fr
		sc, err := fr.Schema()
		if err != nil {
			return err
		}
		for _, f := range sc.Fields() {
			names = append(names, f.Name)
		}
		md := s.pf.MetaData()
		var total int64
		for i := range s.pf.NumRowGroups() {
			s.rgStart = append(s.rgStart, total)
			total += md.RowGroup(i).NumRows()
		}
		s.rgStart = append(s.rgStart, total)
		return nil
	})
	if err != nil {
		s.pf.Close()
		return nil, nil, fileError(path, "", fmt.Errorf("not a readable Parquet file: %w", err))
	}
	s.restart(nil)
	return s, names, nil
}

func (s *parquetSource) bind(l *layout) error {
	s.cols = arrowColumns{lay: l}
	sc, err := s.fr.Schema()
	if err != nil {
		return fileError(s.path, "", err)
	}
	if err := s.cols.check(s.path, sc); err != nil {
		return err
	}
	s.leaves = nil
	for _, name := range l.columns() {
		for i := range s.fr.Manifest.Fields {
			if f := &s.fr.Manifest.Fields[i]; f.Field.Name == name {
				s.leaves = leavesOf(f, s.leaves)
			}
		}
	}
	slices.Sort(s.leaves)
	return nil
}

func leavesOf(f *pqarrow.SchemaField, dst []int) []int {
	if f.IsLeaf() {
		return append(dst, f.ColIndex)
	}
	for i := range f.Children {
		dst = leavesOf(&f.Children[i], dst)
	}
	return dst
}

func (s *parquetSource) numRows() int64 { return s.rgStart[len(s.rgStart)-1] }
func (s *parquetSource) chunks() int    { return len(s.rgStart) - 1 }

func (s *parquetSource) restart(order []int) error {
	s.release()
	if order == nil {
		order = make([]int, s.chunks())
		for i := range order {
			order[i] = i
		}
	}
	s.order, s.oi, s.skip = order, 0, 0
	return nil
}

func (s *parquetSource) seek(row int64) error {
	s.restart(nil)
	// The first row group that ends after row; past the end, none is left to read.
	s.oi = sort.Search(s.chunks(), func(i int) bool { return s.rgStart[i+1] > row })
	if s.oi < s.chunks() {
		s.skip = row - s.rgStart[s.oi]
	}
	return nil
}

func (s *parquetSource) next() (rawRow, error) {
	for {
		if s.ri < len(s.rows) {
			r := s.rows[s.ri]
			s.rows[s.ri] = rawRow{}
			s.ri++
			return r, nil
		}
		if s.rr == nil {
			if s.oi >= len(s.order) {
				return rawRow{}, io.EOF
			}
			if err := s.openRowGroup(s.order[s.oi]); err != nil {
				return rawRow{}, err
			}
			s.oi++
			continue
		}
		if err := s.readBatch(); err != nil {
			return rawRow{}, err
		}
	}
}

func (s *parquetSource) openRowGroup(rg int) error {
	s.rg, s.nextRow = rg, s.rgStart[rg]
	if s.rgStart[rg+1] == s.nextRow {
		return nil // an empty row group: nothing to decode
	}
	return s.wrap(catch(func() (err error) {
		s.rr, err = s.fr.GetRecordReader(context.Background(), s.leaves, []int{rg})
		return err
	}))
}

// readBatch decodes the next record batch of the current row group into s.rows, or ends
// the row group, checking that it held as many rows as the metadata promised.
func (s *parquetSource) readBatch() error {
	var n int64
	err := catch(func() error {
		if !s.rr.Next() {
			return s.rr.Err()
		}
		rec := s.rr.RecordBatch()
		n = rec.NumRows()
		from := min(s.skip, n)
		s.skip -= from
		s.rows, s.ri = s.cols.appendRows(s.rows[:0], rec, s.nextRow, from), 0
		return nil
	})
	if err != nil {
		return s.wrap(err)
	}
	if n > 0 {
		s.nextRow += n
		return nil
	}
	s.rr.Release()
	s.rr = nil
	if end := s.rgStart[s.rg+1]; s.nextRow != end {
		return s.wrap(fmt.Errorf("row group %d ended after %d of its %d rows", s.rg, s.nextRow-s.rgStart[s.rg], end-s.rgStart[s.rg]))
	}
	return nil
}

func (s *parquetSource) wrap(err error) error {
	if err == nil {
		return nil
	}
	return &Error{Pos: Position{File: s.path, Row: s.nextRow}, Err: fmt.Errorf("corrupt Parquet file: row group %d: %w", s.rg, err)}
}

func (s *parquetSource) release() {
	if s.rr != nil {
		s.rr.Release()
		s.rr = nil
	}
	clear(s.rows)
	s.rows, s.ri = s.rows[:0], 0
}

func (s *parquetSource) close() error {
	s.release()
	return s.pf.Close()
}

// catch runs f, turning a panic inside arrow-go, which corrupt input can provoke, into an
// error.
func catch(f func() error) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("decoder panic: %v", p)
		}
	}()
	return f()
}
