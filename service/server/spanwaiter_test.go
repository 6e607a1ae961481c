package server_test

import (
	"context"
	"sync"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

// spanWaiter is a span processor that lets a test wait until a span has
// ended (a server span ends after the client already has its answer).
type spanWaiter struct {
	mu    sync.Mutex
	names map[string]int
	ch    chan struct{}
}

func newSpanWaiter() *spanWaiter {
	return &spanWaiter{names: map[string]int{}, ch: make(chan struct{})}
}

func (w *spanWaiter) OnStart(context.Context, sdktrace.ReadWriteSpan) {}
func (w *spanWaiter) OnEnd(s sdktrace.ReadOnlySpan) {
	w.mu.Lock()
	w.names[s.Name()]++
	close(w.ch)
	w.ch = make(chan struct{})
	w.mu.Unlock()
}
func (w *spanWaiter) Shutdown(context.Context) error   { return nil }
func (w *spanWaiter) ForceFlush(context.Context) error { return nil }

// wait blocks until a span named name has ended n times, or ctx ends.
func (w *spanWaiter) wait(ctx context.Context, name string, n int) bool {
	for {
		w.mu.Lock()
		got, ch := w.names[name], w.ch
		w.mu.Unlock()
		if got >= n {
			return true
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return false
		}
	}
}
