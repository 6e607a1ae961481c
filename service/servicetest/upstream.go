// Package servicetest holds the one fake of service.Upstream that the
// service's tests share (the core, the gateway, the policy, benchmarks),
// in the spirit of net/http/httptest: a stand-in for Procore that records
// what the service asks and answers with a fixed record or error. Tests
// that need Procore's wire behaviour use upstream/procoretest instead.
//
// It imports nothing of the service itself, so any package may use it.
package servicetest

import (
	"context"
	"sync"

	"github.com/procore-directory/procore-directory/upstream"
)

// Upstream records what the service asks of Procore and answers every GET
// and PATCH with Current, or with GetErr / UpdateErr. Set the exported
// fields before the first call; it is safe for concurrent calls.
type Upstream struct {
	// Current is the record both calls answer with.
	Current *upstream.User
	// GetErr and UpdateErr, when set, are returned instead.
	GetErr, UpdateErr error
	// RefusePartial answers a PATCH without last_name or email_address
	// with Procore's 400 naming the missing fields, as a Procore that
	// does not accept partial bodies does (it is recorded all the same).
	RefusePartial bool
	// Discard keeps no record of the calls (benchmarks, where recording
	// would grow without bound).
	Discard bool

	mu      sync.Mutex
	gets    int
	updates []upstream.UpdateRequest
	lastCtx context.Context
}

// GetCompanyUser implements service.Upstream.
func (f *Upstream) GetCompanyUser(ctx context.Context, _, _ int64) (*upstream.User, error) {
	if !f.Discard {
		f.mu.Lock()
		f.gets++
		f.lastCtx = ctx
		f.mu.Unlock()
	}
	if f.GetErr != nil {
		return nil, f.GetErr
	}
	return f.Current, nil
}

// UpdateCompanyUser implements service.Upstream.
func (f *Upstream) UpdateCompanyUser(ctx context.Context, req upstream.UpdateRequest) (*upstream.User, error) {
	if !f.Discard {
		f.mu.Lock()
		f.updates = append(f.updates, req)
		f.lastCtx = ctx
		f.mu.Unlock()
	}
	if f.UpdateErr != nil {
		return nil, f.UpdateErr
	}
	if f.RefusePartial {
		if err := refusePartial(req.Patch); err != nil {
			return nil, err
		}
	}
	return f.Current, nil
}

// refusePartial is Procore's 400 for a body missing a required field, as
// the client reports it, or nil.
func refusePartial(p upstream.Patch) error {
	var missing []upstream.FieldError
	for _, name := range []string{"email_address", "last_name"} {
		if _, ok := p.Value(name); !ok {
			missing = append(missing, upstream.FieldError{Field: name, Messages: []string{"can't be blank"}})
		}
	}
	if len(missing) == 0 {
		return nil
	}
	return &upstream.Error{Op: "update company user", Kind: upstream.KindStatus, StatusCode: 400, FieldErrors: missing, Attempts: 1}
}

// Calls returns how many GETs and PATCHes were asked for.
func (f *Upstream) Calls() (gets, updates int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.gets, len(f.updates)
}

// Updates returns the PATCH requests, oldest first.
func (f *Upstream) Updates() []upstream.UpdateRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]upstream.UpdateRequest(nil), f.updates...)
}

// LastContext is the context of the latest call.
func (f *Upstream) LastContext() context.Context {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.lastCtx
}

// Reset forgets the calls recorded so far.
func (f *Upstream) Reset() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.gets, f.updates, f.lastCtx = 0, nil, nil
}

// Ptr returns a pointer to v, for the optional fields of users and requests.
func Ptr[T any](v T) *T { return &v }

// SeedUser is a current record like the emulator's user 1001 in company 8089.
func SeedUser() *upstream.User {
	return &upstream.User{
		ID:           1001,
		FirstName:    Ptr("Maria"),
		LastName:     Ptr("Okafor"),
		EmailAddress: Ptr("maria.okafor@summitridge.example"),
		JobTitle:     Ptr("Project Manager"),
		CountryCode:  Ptr("US"),
		StateCode:    Ptr("OR"),
	}
}
