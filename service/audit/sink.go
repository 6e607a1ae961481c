package audit

import (
	"context"
	"fmt"
	"io"
	"os"
	"sync"
)

// Sink is one place events are written to. Write gets the event and its
// JSON line (without a newline); it returns only once the event is as
// durable as the sink makes it, since the caller is told the outcome after.
// It must be safe for concurrent use.
type Sink interface {
	// Name labels the sink in the lost-events metric: stderr, file or redis.
	Name() string
	Write(ctx context.Context, e *Event, line []byte) error
}

// Checker is a Sink that can tell, before anything is sent to Procore,
// whether it can be written (a Redis that is down): --audit-required
// refuses updates while one cannot.
type Checker interface {
	Check(ctx context.Context) error
}

// Downer is a Sink that knows, without a round trip, that it is down
// (a Redis connection its probe found unreachable): --audit-required
// refuses updates while it is, before any write has failed.
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

// Write implements Sink: {"msg":"audit", then the event's keys.
func (s *WriterSink) Write(_ context.Context, _ *Event, line []byte) error {
	buf := make([]byte, 0, len(line)+16)
	buf = append(buf, `{"msg":"audit",`...)
	buf = append(buf, line[1:]...)
	buf = append(buf, '\n')
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

// Write implements Sink: one line, appended, then fsync.
func (s *FileSink) Write(_ context.Context, _ *Event, line []byte) error {
	buf := make([]byte, 0, len(line)+1)
	buf = append(append(buf, line...), '\n')
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

// Check implements Checker: the file can still be synced.
func (s *FileSink) Check(context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
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
