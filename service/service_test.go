package service

import (
	"context"
	"testing"
	"time"

	directoryv1 "github.com/procore-directory/procore-directory/gen/procore/directory/v1"
	"github.com/procore-directory/procore-directory/service/servicetest"
)

// TestDeadlineReachesUpstream: the caller's deadline is the upstream call's.
func TestDeadlineReachesUpstream(t *testing.T) {
	fake := &servicetest.Upstream{Current: servicetest.SeedUser()}
	svc, _ := New(fake)
	deadline := time.Now().Add(time.Minute)
	ctx, cancel := context.WithDeadline(context.Background(), deadline)
	defer cancel()
	if _, err := svc.GetCompanyUser(ctx, &directoryv1.GetCompanyUserRequest{CompanyId: 1, Id: 2}); err != nil {
		t.Fatal(err)
	}
	if got, ok := fake.LastContext().Deadline(); !ok || !got.Equal(deadline) {
		t.Errorf("upstream deadline %v %v, want %v", got, ok, deadline)
	}
}
