package audit

import (
	"context"
	"fmt"
	"io"
	"os"
	"sync"
)

// Sink is one place events are written to. Write gets the events' JSON
// lines (without newlines), in order, and returns only once all of them are
// as durable as the sink makes them (one fsync, one pipeline), since the
// caller is told the outcome, or the request is sent, after. It must be
// safe for concurrent use.
type Sink interface {
	// Name labels the sink in the lost-events metric: stderr, file or redis.
	Name() string
	Write(ctx context.Context, lines [][]byte) error
}

// Downer is a Sink that knows, without a round trip, that it is down
// (a Redis connection its probe found unreachable): it is not tried while
// it is, so that a dead Redis does not hold every update for its time-out,
// and --audit-required refuses updates at once.
type Downer interface {
	Down() bool
}

// WriterSink writes each event as its own JSON line with "msg":"audit" to
// w (stderr by default), apart from the access log's lines.
type WriterSink struct {
	mu sync.Mutex
	w  io.Writer
}

// NewWriterSink returns the sink that writes to w.
func NewWriterSink(w io.Writer) *WriterSink { return &WriterSink{w: w} }

// Name implements Sink.
func (*WriterSink) Name() string { return "stderr" }

// Write implements Sink: per event, {"msg":"audit", then its keys; all
// in one write.
func (s *WriterSink) Write(_ context.Context, lines [][]byte) error {
	buf := make([]byte, 0, size(lines, 16))
	for _, line := range lines {
		buf = append(buf, `{"msg":"audit",`...)
		buf = append(buf, line[1:]...)
		buf = append(buf, '\n')
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	_, err := s.w.Write(buf)
	return err
}

// FileSink appends each event as a JSON line to a file and fsyncs it
// before the write returns: the one-replica trail that survives a crash.
type FileSink struct {
	mu   sync.Mutex
	f    *os.File
	path string
}

// OpenFile opens (creating, mode 0600) the file events are appended to.
func OpenFile(path string) (*FileSink, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("audit: open %s: %w", path, err)
	}
	return &FileSink{f: f, path: path}, nil
}

// Name implements Sink.
func (*FileSink) Name() string { return "file" }

// Path is the file's path (ListAuditEvents reads it).
func (s *FileSink) Path() string { return s.path }

// Write implements Sink: the lines, appended in one write, then one fsync.
func (s *FileSink) Write(_ context.Context, lines [][]byte) error {
	buf := make([]byte, 0, size(lines, 1))
	for _, line := range lines {
		buf = append(append(buf, line...), '\n')
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, err := s.f.Write(buf); err != nil {
		return fmt.Errorf("audit: write %s: %w", s.path, err)
	}
	if err := s.f.Sync(); err != nil {
		return fmt.Errorf("audit: fsync %s: %w", s.path, err)
	}
	return nil
}

// Close closes the file.
func (s *FileSink) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.f.Close()
}

// size is the bytes of lines with extra more each.
func size(lines [][]byte, extra int) int {
	n := 0
	for _, l := range lines {
		n += len(l) + extra
	}
	return n
}
