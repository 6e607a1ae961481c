package upstream

import (
	"context"
	"sync"
)

// CallStats accumulates what the client did for one incoming request (which
// may make several client calls, e.g. a GET then a PATCH), so an access log
// written above the client can report it. Create one with WithCallStats;
// the client fills it in. It is safe for concurrent use.
type CallStats struct {
	mu         sync.Mutex
	attempts   int
	statusCode int
	requestID  string
}

// callStatsKey is the context key of a *CallStats.
type callStatsKey struct{}

// WithCallStats returns a context carrying a new, empty CallStats that
// every client call made with the context (or one derived from it) adds to.
func WithCallStats(ctx context.Context) (context.Context, *CallStats) {
	s := &CallStats{}
	return context.WithValue(ctx, callStatsKey{}, s), s
}

func callStatsFrom(ctx context.Context) *CallStats {
	s, _ := ctx.Value(callStatsKey{}).(*CallStats)
	return s
}

// CallStatsFrom returns the CallStats of ctx (WithCallStats), or nil, so
// that more than one layer above the client (the access log, metrics) can
// read what one incoming request cost without each adding its own.
func CallStatsFrom(ctx context.Context) *CallStats { return callStatsFrom(ctx) }

// record adds one attempt's answer (status 0: none came back).
func (s *CallStats) record(status int, requestID string) {
	if s == nil {
		return
	}
	s.mu.Lock()
	s.attempts++
	s.statusCode = status
	if requestID != "" {
		s.requestID = requestID
	}
	s.mu.Unlock()
}

// Attempts is the number of requests sent to Procore.
func (s *CallStats) Attempts() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.attempts
}

// StatusCode is the status of the last answer from Procore (0 if the last
// attempt got none, or nothing was sent).
func (s *CallStats) StatusCode() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.statusCode
}

// RequestID is Procore's X-Request-Id of the last answer that carried one.
func (s *CallStats) RequestID() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.requestID
}
