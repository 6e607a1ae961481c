package audit

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strconv"
)

// FileReader reads a trail written by FileSink: its cursor is the byte
// offset after an entry's line.
type FileReader struct{ path string }

// NewFileReader returns the Reader of the file at path.
func NewFileReader(path string) *FileReader { return &FileReader{path: path} }

// Read implements Reader. A line that does not decode (a torn last line
// of a crash) is skipped.
func (r *FileReader) Read(_ context.Context, after string, n int) ([]Entry, error) {
	var off int64
	if after != "" {
		v, err := strconv.ParseInt(after, 10, 64)
		if err != nil || v < 0 {
			return nil, ErrPageToken
		}
		off = v
	}
	f, err := os.Open(r.path)
	if err != nil {
		return nil, fmt.Errorf("audit: read %s: %w", r.path, err)
	}
	defer f.Close()
	if _, err := f.Seek(off, io.SeekStart); err != nil {
		return nil, fmt.Errorf("audit: read %s: %w", r.path, err)
	}
	br := bufio.NewReader(f)
	var out []Entry
	for len(out) < n {
		line, err := br.ReadBytes('\n')
		if err != nil { // io.EOF: a line without its newline is not complete yet
			break
		}
		off += int64(len(line))
		var e Event
		if json.Unmarshal(line, &e) != nil {
			continue
		}
		out = append(out, Entry{Cursor: strconv.FormatInt(off, 10), Event: e})
	}
	return out, nil
}
