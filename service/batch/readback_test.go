package batch_test

import (
	"context"
	"fmt"
	"testing"

	"google.golang.org/grpc/codes"

	"github.com/procore-directory/procore-directory/service/batch"
	"github.com/procore-directory/procore-directory/upstream"
)

// maybeSentQueue hands out its chunks as an earlier holder had marked them
// sending (MaybeSent), as a claim after a replica's death does.
type maybeSentQueue struct{ *batch.MemoryQueue }

type maybeSentClaim struct{ batch.Claim }

func (maybeSentClaim) MaybeSent() bool { return true }

func (q maybeSentQueue) Claim(ctx context.Context) (batch.Claim, error) {
	c, err := q.MemoryQueue.Claim(ctx)
	if err != nil {
		return nil, err
	}
	return maybeSentClaim{c}, nil
}

// TestMaybeSentChunkIsReadBackNotResent: a chunk an earlier holder may
// have sent is read back, never resent: the users the earlier send
// applied are OK, the others ABORTED (UPSTREAM_NOT_APPLIED), and no sync
// goes out again.
func TestMaybeSentChunkIsReadBackNotResent(t *testing.T) {
	h := newHarness(t, harnessConfig{users: 6, opts: []batch.Option{batch.WithQueue(maybeSentQueue{batch.NewMemoryQueue()})}, noStart: true})
	// The earlier holder's send reached Procore for users 1 to 3 only.
	var items []upstream.SyncItem
	for id := int64(1); id <= 3; id++ {
		req := upstream.UpdateRequest{CompanyID: companyID, UserID: id}
		req.Patch.SetString("last_name", fmt.Sprintf("New%d", id))
		it, err := h.client.NewSyncItem(req)
		if err != nil {
			t.Fatal(err)
		}
		items = append(items, it)
	}
	if _, err := h.client.SyncCompanyUsers(context.Background(), companyID, items); err != nil {
		t.Fatal(err)
	}
	h.emu.ResetRequests()
	op, err := h.b.Submit(context.Background(), lastNames(ids(6)...))
	if err != nil {
		t.Fatal(err)
	}
	h.b.Start()
	_, md := h.wait(t, op)
	if md.GetSucceeded() != 3 || md.GetFailed() != 3 {
		t.Fatalf("metadata %v", md)
	}
	for i := int32(3); i < 6; i++ {
		if st := md.GetFailedRequests()[i]; codes.Code(st.GetCode()) != codes.Aborted {
			t.Errorf("item %d: %v, want ABORTED", i, st)
		}
	}
	for _, r := range apiRequests(h.emu) {
		if r.Method != "GET" {
			t.Errorf("%s %s sent: a chunk that may have been sent must only be read back", r.Method, r.Path)
		}
	}
}

// TestRequestIDDedupes: the same request_id gets the same operation and
// starts nothing new; the same id with another batch is INVALID_ARGUMENT.
func TestRequestIDDedupes(t *testing.T) {
	h := newHarness(t, harnessConfig{users: 4})
	req := lastNames(1, 2)
	req.RequestId = "0d1c7a5e-2a9b-4a53-9f0e-3b7c1a2d4e5f"
	first, err := h.b.Submit(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	h.wait(t, first)
	again, err := h.b.Submit(context.Background(), req)
	if err != nil || again.GetName() != first.GetName() || !again.GetDone() {
		t.Fatalf("repeat: %v %v, want the first operation, done", again, err)
	}
	other := lastNames(3, 4)
	other.RequestId = req.RequestId
	if _, err := h.b.Submit(context.Background(), other); codeOf(err) != codes.InvalidArgument {
		t.Fatalf("reused request_id: %v, want INVALID_ARGUMENT", err)
	}
	if n := len(apiRequests(h.emu)); n != 1 {
		t.Errorf("%d Procore requests, want the first batch's one", n)
	}
}
