package service_test

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/fieldmaskpb"

	directoryv1 "github.com/procore-directory/procore-directory/gen/procore/directory/v1"
	"github.com/procore-directory/procore-directory/service/servicetest"
	"github.com/procore-directory/procore-directory/upstream/procoretest"
)

// TestIdempotentRetries: the same request_id, sent twice one after the
// other and many times at once, makes exactly one PATCH, and every call
// gets the first call's answer; another request under the id is
// INVALID_ARGUMENT naming request_id.
func TestIdempotentRetries(t *testing.T) {
	req := func(id, title string) *directoryv1.UpdateCompanyUserRequest {
		return &directoryv1.UpdateCompanyUserRequest{CompanyId: 8089, Id: 1001, RequestId: id,
			User: &directoryv1.CompanyUser{JobTitle: proto.String(title)}, UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"job_title"}}}
	}
	t.Run("sequential", func(t *testing.T) {
		svc, emu := realService(t)
		ctx := context.Background()
		first, err := svc.UpdateCompanyUser(ctx, req("6f1c2d3e-4b5a-4c6d-8e7f-0a1b2c3d4e5f", "Once"))
		if err != nil {
			t.Fatal(err)
		}
		// Someone else changes the title: a replay must not write it back.
		if _, err := svc.UpdateCompanyUser(ctx, req("", "Later")); err != nil {
			t.Fatal(err)
		}
		again, err := svc.UpdateCompanyUser(ctx, req("6f1c2d3e-4b5a-4c6d-8e7f-0a1b2c3d4e5f", "Once"))
		if err != nil {
			t.Fatal(err)
		}
		if !proto.Equal(first, again) {
			t.Errorf("the repeat's answer differs from the first")
		}
		if n := countPatches(emu); n != 2 {
			t.Errorf("%d PATCHes, want 2 (the first call and the other update)", n)
		}
		if got := storedField(t, emu, "job_title"); got != "Later" {
			t.Errorf("job_title %q: the repeat was sent again", got)
		}
		_, err = svc.UpdateCompanyUser(ctx, req("6f1c2d3e-4b5a-4c6d-8e7f-0a1b2c3d4e5f", "Different"))
		if status.Code(err) != codes.InvalidArgument || !slices.Contains(servicetest.ViolatedFields(err), "request_id") {
			t.Fatalf("same id, other request: %v, want INVALID_ARGUMENT on request_id", err)
		}
	})
	t.Run("concurrent", func(t *testing.T) {
		svc, emu := realService(t)
		emu.Script(procoretest.FaultDelay(100 * time.Millisecond)) // the first is still running when the others come
		const n = 8
		var wg sync.WaitGroup
		answers := make([]*directoryv1.CompanyUser, n)
		errs := make([]error, n)
		for i := range n {
			wg.Go(func() {
				answers[i], errs[i] = svc.UpdateCompanyUser(context.Background(), req("0d9c8b7a-6f5e-4d3c-9b2a-1f0e9d8c7b6a", "Concurrent"))
			})
		}
		wg.Wait()
		for i := range n {
			if errs[i] != nil || answers[i].GetJobTitle() != "Concurrent" {
				t.Fatalf("call %d: %v", i, errs[i])
			}
		}
		if got := countPatches(emu); got != 1 {
			t.Fatalf("%d PATCHes for one request_id, want 1", got)
		}
	})
	t.Run("not a UUID", func(t *testing.T) {
		svc, emu := realService(t)
		_, err := svc.UpdateCompanyUser(context.Background(), req("retry-1", "X"))
		if status.Code(err) != codes.InvalidArgument || !slices.Contains(servicetest.ViolatedFields(err), "request_id") {
			t.Fatalf("%v, want INVALID_ARGUMENT on request_id", err)
		}
		if n := countPatches(emu); n != 0 {
			t.Fatalf("%d PATCHes", n)
		}
	})
	t.Run("a retryable failure runs again", func(t *testing.T) {
		svc, emu := realService(t)
		// The fill GET passes; the PATCH gets a 502 without being applied,
		// so the read-back says ABORTED, not applied.
		emu.Script(procoretest.FaultDelay(0), procoretest.FaultStatus(502, "text/html", "", nil))
		_, err := svc.UpdateCompanyUser(context.Background(), req("1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d", "Second try"))
		if status.Code(err) != codes.Aborted {
			t.Fatalf("first: %v, want ABORTED (not applied)", err)
		}
		if _, err := svc.UpdateCompanyUser(context.Background(), req("1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d", "Second try")); err != nil {
			t.Fatalf("retry: %v", err)
		}
		if got := storedField(t, emu, "job_title"); got != "Second try" {
			t.Fatalf("job_title %q after the retry", got)
		}
	})
}
