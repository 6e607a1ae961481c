// Package logsink is the goroutine-safe log sink that tests hand to a
// slog handler or to a child process's stdout and stderr, then read back:
// one helper instead of a copy per test package. It imports nothing of
// this module, so every package's tests can use it, upstream's internal
// tests included.
package logsink

import (
	"bytes"
	"sync"
)

// Buffer is a bytes.Buffer safe for the concurrent writes of a logger or
// of a process's output copiers. The zero value is ready to use.
type Buffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

// Write implements io.Writer.
func (s *Buffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

// String returns everything written so far.
func (s *Buffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
