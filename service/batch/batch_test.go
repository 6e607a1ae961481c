package batch_test

import (
	"context"
	"fmt"
	"slices"
	"testing"

	directoryv1 "github.com/procore-directory/procore-directory/gen/procore/directory/v1"
	"github.com/procore-directory/procore-directory/upstream/procoretest"
)

// TestBatchAppliesEveryItemBySync: one sync applies every item; the
// response holds the users in request order, not the order sent (ids).
func TestBatchAppliesEveryItemBySync(t *testing.T) {
	h := newHarness(t, harnessConfig{users: 30})
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

// TestItemsSyncCannotCarryGoByPATCH: an item sync cannot carry
// (add_to_new_projects) goes through the single update's PATCH inside
// the same operation; the others by one sync.
func TestItemsSyncCannotCarryGoByPATCH(t *testing.T) {
	h := newHarness(t, harnessConfig{users: 4, emuOpts: []procoretest.Option{procoretest.WithPartialBodies(true)}})
	req := lastNames(1, 2, 3)
	req.Requests[1].User.AddToNewProjects = ptr(true)
	req.Requests[1].UpdateMask.Paths = append(req.Requests[1].UpdateMask.Paths, "add_to_new_projects")
	op, err := h.b.Submit(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	done, md := h.wait(t, op)
	if done.GetError() != nil || md.GetSucceeded() != 3 || md.GetSingleUpdateFallback() {
		t.Fatalf("error %v, metadata %v", done.GetError(), md)
	}
	var paths []string
	for _, r := range apiRequests(h.emu) {
		paths = append(paths, r.Method+" "+r.Path)
	}
	if want := []string{"PATCH " + syncPath, "PATCH /rest/v1.3/companies/8089/users/2"}; !slices.Equal(paths, want) {
		t.Errorf("requests %v, want %v", paths, want)
	}
	if got := storedField(t, h.emu, 2, "last_name"); got != "New2" {
		t.Errorf("user 2 last_name %v", got)
	}
}
