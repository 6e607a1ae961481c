package procoretest

import (
	"fmt"
	"net/http"
)

// SyncMode says whether the sync endpoint (PATCH .../users/sync) serves, so
// a client's fallback to single updates is testable against a Procore that
// refuses sync for its credential or does not offer it.
type SyncMode string

const (
	// SyncAllowed (the default) serves sync to Directory Admin credentials
	// and answers 403 to the others, as published.
	SyncAllowed SyncMode = "allowed"
	// SyncForbidden answers 403 to every credential, admin or not, after
	// authentication and the rate limit, as a pass-through token without
	// the right would meet.
	SyncForbidden SyncMode = "forbidden"
	// SyncAbsent answers 404 as for an unknown route, before
	// authentication: a Procore (or proxy) without the endpoint.
	SyncAbsent SyncMode = "absent"
)

// MarshalText makes SyncMode usable with flag.TextVar.
func (m SyncMode) MarshalText() ([]byte, error) { return []byte(m), nil }

// UnmarshalText parses "allowed", "forbidden" or "absent" (flag.TextVar).
func (m *SyncMode) UnmarshalText(b []byte) error {
	switch v := SyncMode(b); v {
	case SyncAllowed, SyncForbidden, SyncAbsent:
		*m = v
		return nil
	}
	return fmt.Errorf("sync %q: want %q, %q or %q", b, SyncAllowed, SyncForbidden, SyncAbsent)
}

// SyncOrder is the order of the sync answer's entities and errors, which
// Procore does not publish: a client must match results to its items by id,
// never by position, and the non-default orders prove it does.
type SyncOrder string

const (
	// SyncOrderInput (the default) lists entities and errors in the order
	// of the items they answer.
	SyncOrderInput SyncOrder = "input"
	// SyncOrderReversed lists each array in reverse input order.
	SyncOrderReversed SyncOrder = "reversed"
	// SyncOrderShuffled shuffles each array with the emulator's random
	// source (WithRandSeed makes it repeatable).
	SyncOrderShuffled SyncOrder = "shuffled"
)

// MarshalText makes SyncOrder usable with flag.TextVar.
func (o SyncOrder) MarshalText() ([]byte, error) { return []byte(o), nil }

// UnmarshalText parses "input", "reversed" or "shuffled" (flag.TextVar).
func (o *SyncOrder) UnmarshalText(b []byte) error {
	switch v := SyncOrder(b); v {
	case SyncOrderInput, SyncOrderReversed, SyncOrderShuffled:
		*o = v
		return nil
	}
	return fmt.Errorf("sync order %q: want %q, %q or %q", b, SyncOrderInput, SyncOrderReversed, SyncOrderShuffled)
}

// validSyncAllFailedStatus is what WithSyncAllFailedStatus accepts: the
// published "always 200", or the 422 a Rails app could send instead.
func validSyncAllFailedStatus(code int) error {
	if code != http.StatusOK && code != http.StatusUnprocessableEntity {
		return fmt.Errorf("sync all-failed status %d: want 200 or 422", code)
	}
	return nil
}
