package data

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// ipcSource streams an Arrow IPC file (Feather v2, "ARROW1" magic) or stream (what
// Hugging Face datasets caches as .arrow) one record batch at a time, in file order.
type ipcSource struct {
	path   string
	f      *os.File
	schema *arrow.Schema
	cols   arrowColumns

	fileReader   *ipc.FileReader // file format: batches by index
	batch        int
	streamReader *ipc.Reader // stream format: batches in sequence

	nextRow int64
	skip    int64 // rows still to pass over after a seek
	rows    []rawRow
	ri      int
}

func openArrowIPC(path string, _ Options) (source, []string, error) {
	f, err := openFile(path)
	if err != nil {
		return nil, nil, err
	}
	s := &ipcSource{path: path, f: f}
	magic := make([]byte, 6)
	_, err = io.ReadFull(f, magic)
	if err == nil && bytes.Equal(magic, []byte("ARROW1")) {
		err = catch(func() (err error) {
			s.fileReader, err = ipc.NewFileReader(f, ipc.WithAllocator(memory.DefaultAllocator))
			if err == nil {
				s.schema = s.fileReader.Schema()
			}
			return err
		})
	} else {
		err = s.openStream()
	}
	if err != nil {
		f.Close()
		return nil, nil, fileError(path, "", fmt.Errorf("not a readable Arrow IPC file: %w", err))
	}
	var names []string
	for _, fld := range s.schema.Fields() {
		names = append(names, fld.Name)
	}
	return s, names, nil
}

// openStream (re)starts reading the stream format from the top of the file.
func (s *ipcSource) openStream() error {
	if s.streamReader != nil {
		s.streamReader.Release()
		s.streamReader = nil
	}
	if _, err := s.f.Seek(0, io.SeekStart); err != nil {
		return err
	}
	return catch(func() (err error) {
		s.streamReader, err = ipc.NewReader(bufio.NewReaderSize(s.f, 1<<20), ipc.WithAllocator(memory.DefaultAllocator))
		if err == nil {
			s.schema = s.streamReader.Schema()
		}
		return err
	})
}

func (s *ipcSource) bind(l *layout) error {
	s.cols = arrowColumns{lay: l}
	return s.cols.check(s.path, s.schema)
}

func (s *ipcSource) numRows() int64 { return -1 }
func (s *ipcSource) chunks() int    { return 1 }

func (s *ipcSource) restart([]int) error {
	clear(s.rows)
	s.rows, s.ri, s.batch, s.nextRow, s.skip = s.rows[:0], 0, 0, 0, 0
	if s.streamReader != nil {
		if err := s.openStream(); err != nil {
			return fileError(s.path, "", fmt.Errorf("corrupt Arrow IPC stream: %w", err))
		}
	}
	return nil
}

func (s *ipcSource) seek(row int64) error {
	if err := s.restart(nil); err != nil {
		return err
	}
	s.skip = row
	return nil
}

func (s *ipcSource) next() (rawRow, error) {
	for {
		if s.ri < len(s.rows) {
			r := s.rows[s.ri]
			s.rows[s.ri] = rawRow{}
			s.ri++
			return r, nil
		}
		done := false
		err := catch(func() error {
			var rec arrow.RecordBatch
			if s.fileReader != nil {
				if s.batch >= s.fileReader.NumRecords() {
					done = true
					return nil
				}
				r, err := s.fileReader.RecordBatchAt(s.batch)
				if err != nil {
					return err
				}
				defer r.Release()
				s.batch++
				rec = r
			} else {
				if !s.streamReader.Next() {
					done = true
					return s.streamReader.Err()
				}
				rec = s.streamReader.RecordBatch()
			}
			n := rec.NumRows()
			from := min(s.skip, n)
			s.skip -= from
			s.rows, s.ri = s.cols.appendRows(s.rows[:0], rec, s.nextRow, from), 0
			s.nextRow += n
			return nil
		})
		if err != nil {
			return rawRow{}, &Error{Pos: Position{File: s.path, Row: s.nextRow}, Err: fmt.Errorf("corrupt Arrow IPC file: %w", err)}
		}
		if done {
			return rawRow{}, io.EOF
		}
	}
}

func (s *ipcSource) close() error {
	if s.fileReader != nil {
		s.fileReader.Close()
	}
	if s.streamReader != nil {
		s.streamReader.Release()
	}
	return s.f.Close()
}
