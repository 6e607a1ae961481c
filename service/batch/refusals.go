package batch

import (
	"github.com/procore-directory/procore-directory/service/state"
)

// SyncRefusals remembers the credentials (by service.CredentialKey)
// Procore refused its sync endpoint to (403 or 404), so that later batches
// of the credential go by single PATCHes at once instead of spending a
// request to be refused again, as service.PartialBodyMemory remembers
// companies for --required-fields=auto. A memory that cannot answer
// reports false: the batch then tries sync once more, which costs one
// request, never correctness.
type SyncRefusals = state.Memory[string]

// DefaultSyncRefusalCredentials bounds the in-memory SyncRefusals: the
// pass-through credentials come from callers.
const DefaultSyncRefusalCredentials = 10000

// NewSyncRefusals returns a SyncRefusals kept in this process, holding at
// most max credentials (DefaultSyncRefusalCredentials when max <= 0).
func NewSyncRefusals(max int) SyncRefusals {
	return state.NewLocalMemory[string](max, DefaultSyncRefusalCredentials)
}
