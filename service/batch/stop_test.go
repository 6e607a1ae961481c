package batch_test

import (
	"context"
	"testing"

	"google.golang.org/grpc/codes"

	directoryv1 "github.com/procore-directory/procore-directory/gen/procore/directory/v1"
	"github.com/procore-directory/procore-directory/service/apierr"
	"github.com/procore-directory/procore-directory/service/batch"
	"github.com/procore-directory/procore-directory/upstream"
)

// gatedQueue is a MemoryQueue whose claims after the first wait for the
// test: entered says a runner asks for the next chunk (so the one before
// is recorded), and the claim proceeds once open is closed.
type gatedQueue struct {
	*batch.MemoryQueue
	claims  int
	entered chan struct{}
	open    chan struct{}
}

func newGatedQueue() *gatedQueue {
	return &gatedQueue{MemoryQueue: batch.NewMemoryQueue(), entered: make(chan struct{}), open: make(chan struct{})}
}

func (q *gatedQueue) Claim(ctx context.Context) (batch.Claim, error) {
	if q.claims++; q.claims == 2 {
		close(q.entered)
		select {
		case <-q.open:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	return q.MemoryQueue.Claim(ctx)
}

// TestCancelBetweenChunks: a cancel after the first chunk stops the
// operation before the second; the first chunk's items are reported as
// they happened, the others CANCELLED and never sent, and so is the
// operation.
func TestCancelBetweenChunks(t *testing.T) {
	q := newGatedQueue()
	h := newHarness(t, harnessConfig{users: 15, opts: []batch.Option{batch.WithChunkSize(5), batch.WithQueue(q)}})
	op, err := h.b.Submit(context.Background(), lastNames(ids(15)...))
	if err != nil {
		t.Fatal(err)
	}
	<-q.entered // the first chunk is recorded
	if _, err := batch.PublicStore(h.store).Cancel(context.Background(), "", op.GetName(), batch.CancelMark); err != nil {
		t.Fatal(err)
	}
	close(q.open)
	done, md := h.wait(t, op)
	if codes.Code(done.GetError().GetCode()) != codes.Canceled {
		t.Fatalf("operation error %v, want CANCELLED", done.GetError())
	}
	if md.GetSucceeded() != 5 || md.GetFailed() != 10 || md.GetPending() != 0 || !md.GetCancelRequested() {
		t.Errorf("metadata %v", md)
	}
	for i := 5; i < 15; i++ {
		if st := md.GetFailedRequests()[int32(i)]; codes.Code(st.GetCode()) != codes.Canceled {
			t.Errorf("item %d: %v, want CANCELLED", i, st)
		}
	}
	if n := len(apiRequests(h.emu)); n != 1 {
		t.Errorf("%d requests sent, want the first chunk's one", n)
	}
}

// blockingSyncer holds each sync until the test releases it.
type blockingSyncer struct {
	batch.Syncer
	entered chan struct{}
	release chan struct{}
}

func (s *blockingSyncer) SyncCompanyUsers(ctx context.Context, companyID int64, items []upstream.SyncItem) (upstream.SyncResult, error) {
	s.entered <- struct{}{}
	<-s.release
	return s.Syncer.SyncCompanyUsers(ctx, companyID, items)
}

// TestStopFinishesTheChunkInFlight: a stop (SIGTERM) while a chunk is
// being sent lets it finish and records its outcome; the chunks not
// claimed are never sent, and in memory mode the operation is failed with
// its progress: the items not sent UNAVAILABLE (SHUTTING_DOWN).
func TestStopFinishesTheChunkInFlight(t *testing.T) {
	bs := &blockingSyncer{entered: make(chan struct{}), release: make(chan struct{})}
	h := newHarness(t, harnessConfig{users: 10, opts: []batch.Option{batch.WithChunkSize(4)},
		syncer: func(s batch.Syncer) batch.Syncer { bs.Syncer = s; return bs }})
	op, err := h.b.Submit(context.Background(), lastNames(ids(10)...))
	if err != nil {
		t.Fatal(err)
	}
	<-bs.entered // the first chunk is in flight
	stopped := make(chan struct{})
	go func() {
		h.b.Stop(context.Background(), apierr.ErrStopping)
		close(stopped)
	}()
	<-h.b.Stopping() // no new claim: the chunks not claimed stay unsent
	close(bs.release)
	<-stopped
	done, md := h.wait(t, op)
	if codes.Code(done.GetError().GetCode()) != codes.Unavailable {
		t.Fatalf("operation error %v, want UNAVAILABLE", done.GetError())
	}
	if md.GetSucceeded() != 4 || md.GetFailed() != 6 {
		t.Errorf("metadata %v", md)
	}
	for i := 4; i < 10; i++ {
		if st := md.GetFailedRequests()[int32(i)]; codes.Code(st.GetCode()) != codes.Unavailable {
			t.Errorf("item %d: %v, want UNAVAILABLE", i, st)
		}
	}
	if n := len(apiRequests(h.emu)); n != 1 {
		t.Errorf("%d requests sent, want the chunk in flight's one", n)
	}
	var _ *directoryv1.BatchUpdateCompanyUsersMetadata = md
}
