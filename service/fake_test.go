package service

import (
	"context"
	"sync"

	"github.com/procore-directory/procore-directory/upstream"
)

// fakeUpstream records what the service asks of Procore and answers with a
// fixed record or error.
type fakeUpstream struct {
	mu        sync.Mutex
	current   *upstream.User
	getErr    error
	updateErr error
	gets      int
	updates   []upstream.UpdateRequest
	lastCtx   context.Context
}

func (f *fakeUpstream) GetCompanyUser(ctx context.Context, companyID, userID int64) (*upstream.User, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.gets++
	f.lastCtx = ctx
	if f.getErr != nil {
		return nil, f.getErr
	}
	return f.current, nil
}

func (f *fakeUpstream) UpdateCompanyUser(ctx context.Context, req upstream.UpdateRequest) (*upstream.User, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.updates = append(f.updates, req)
	f.lastCtx = ctx
	if f.updateErr != nil {
		return nil, f.updateErr
	}
	return f.current, nil
}

func (f *fakeUpstream) calls() (gets, updates int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.gets, len(f.updates)
}

func ptr[T any](v T) *T { return &v }

// seedUser is a current record like the emulator's user 1001.
func seedUser() *upstream.User {
	return &upstream.User{
		ID:           1001,
		FirstName:    ptr("Maria"),
		LastName:     ptr("Okafor"),
		EmailAddress: ptr("maria.okafor@summitridge.example"),
		JobTitle:     ptr("Project Manager"),
		CountryCode:  ptr("US"),
		StateCode:    ptr("OR"),
	}
}
