package batch

import (
	"context"

	"github.com/procore-directory/procore-directory/service/state"
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
	return localRefusals{state.NewBoundedSet[string](max, DefaultSyncRefusalCredentials)}
}

type localRefusals struct{ refused *state.BoundedSet[string] }

func (m localRefusals) Refused(_ context.Context, credential string) bool {
	return m.refused.Has(credential)
}

func (m localRefusals) RememberRefused(_ context.Context, credential string) {
	m.refused.Add(credential)
}
