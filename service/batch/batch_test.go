package batch_test

import (
	"context"
	"fmt"
	"testing"

	directoryv1 "github.com/procore-directory/procore-directory/gen/procore/directory/v1"
)

func TestBatchAppliesEveryItemBySync(t *testing.T) {
	h := newHarness(t, harnessConfig{users: 30, opts: nil})
	req := lastNames(ids(30)...)
	// Request order differs from id order.
	req.Requests[0], req.Requests[29] = req.Requests[29], req.Requests[0]
	op, err := h.b.Submit(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	done, md := h.wait(t, op)
	if done.GetError() != nil {
		t.Fatalf("error %v", done.GetError())
	}
	resp := &directoryv1.BatchUpdateCompanyUsersResponse{}
	if err := done.GetResponse().UnmarshalTo(resp); err != nil {
		t.Fatal(err)
	}
	if md.GetSucceeded() != 30 || md.GetPending() != 0 || md.GetFailed() != 0 || md.GetProcoreRequests() != 1 {
		t.Errorf("metadata %v", md)
	}
	if len(resp.GetCompanyUsers()) != 30 || resp.GetCompanyUsers()[0].GetId() != 30 {
		t.Fatalf("response users %d, first %d", len(resp.GetCompanyUsers()), resp.GetCompanyUsers()[0].GetId())
	}
	for _, id := range ids(30) {
		if got := storedField(t, h.emu, id, "last_name"); got != fmt.Sprintf("New%d", id) {
			t.Errorf("user %d last_name %v", id, got)
		}
	}
}
