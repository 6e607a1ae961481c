package batch

import (
	"context"
	"sync"
)

// SyncRefusals remembers the credentials Procore refused its sync endpoint
// to (403 or 404), so that later batches of the credential go by single
// PATCHes at once instead of spending a request to be refused again, as
// service.PartialBodyMemory remembers companies for --required-fields=auto.
// A memory that cannot answer reports false: the batch then tries sync
// once more, which costs one request, never correctness.
type SyncRefusals interface {
	// Refused reports whether sync is known refused to the credential.
	Refused(ctx context.Context, credential string) bool
	// RememberRefused records that it was.
	RememberRefused(ctx context.Context, credential string)
}

// DefaultSyncRefusalCredentials bounds the in-memory SyncRefusals: the
// pass-through credentials come from callers.
const DefaultSyncRefusalCredentials = 10000

// NewSyncRefusals returns a SyncRefusals kept in this process, holding at
// most max credentials (DefaultSyncRefusalCredentials when max <= 0).
func NewSyncRefusals(max int) SyncRefusals {
	if max <= 0 {
		max = DefaultSyncRefusalCredentials
	}
	return &localRefusals{max: max, refused: map[string]struct{}{}}
}

type localRefusals struct {
	max     int
	mu      sync.RWMutex
	refused map[string]struct{}
}

func (m *localRefusals) Refused(_ context.Context, credential string) bool {
	m.mu.RLock()
	defer m.mu.RUnlock()
	_, ok := m.refused[credential]
	return ok
}

func (m *localRefusals) RememberRefused(_ context.Context, credential string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.refused) < m.max {
		m.refused[credential] = struct{}{}
	}
}
