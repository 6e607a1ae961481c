package batch

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/procore-directory/procore-directory/service"
	"github.com/procore-directory/procore-directory/service/operations"
	"github.com/procore-directory/procore-directory/upstream"
)

// Syncer is what the runner needs of the Procore client beside the core's
// Upstream: sync items built by the single update's checks, and the sync
// itself. *upstream.Client is the real one.
type Syncer interface {
	NewSyncItem(req upstream.UpdateRequest) (upstream.SyncItem, error)
	SyncCompanyUsers(ctx context.Context, companyID int64, items []upstream.SyncItem) (upstream.SyncResult, error)
}

// Batcher implements BatchUpdateCompanyUsers: Submit checks and records a
// batch, and the runner (Start, Stop) works through its chunks.
type Batcher struct {
	core     *service.Service
	syncer   Syncer // nil: every item by single PATCH
	store    operations.Store
	local    *MemoryQueue
	shared   Queue // nil: local only
	refusals SyncRefusals
	log      *slog.Logger
	now      func() time.Time
	obs      Observer

	maxItems, chunkSize int

	mu sync.Mutex
	// tokens are the pass-through tokens of the operations in the local
	// queue, by operation name: they never leave this process.
	tokens map[string]string
	// localOps are the operations whose chunks are in the local queue: a
	// stop fails those not done (nothing else would ever run them).
	localOps map[string]struct{}
	// plans are the items planned at submission, by operation and index,
	// so that the runner of this replica does not plan them again; a
	// chunk another replica submitted is planned when claimed.
	plans map[string]map[int32]*service.Planned
	// runningOps counts the chunks running on this replica, by
	// operation name (the Observer's operations in flight).
	runningOps map[string]int

	claimCtx   context.Context // ends at Stop: no new claims
	stopClaims context.CancelFunc
	workCtx    context.Context // ends only when Stop's deadline passes
	abortWork  context.CancelCauseFunc
	workers    sync.WaitGroup
	started    bool
	stopOnce   sync.Once
}

// New returns a Batcher over the core, the sync client (nil: single
// PATCHes only) and the operation store. Start runs it.
func New(core *service.Service, syncer Syncer, store operations.Store, opts ...Option) (*Batcher, error) {
	if core == nil || store == nil {
		return nil, errors.New("batch: New needs the core and an operation store")
	}
	b := &Batcher{
		core: core, syncer: syncer, store: store, local: NewMemoryQueue(),
		refusals: NewSyncRefusals(0), log: slog.New(slog.DiscardHandler), now: time.Now, obs: nopObserver{},
		maxItems: DefaultMaxItems, chunkSize: DefaultChunkSize,
		tokens: map[string]string{}, localOps: map[string]struct{}{}, plans: map[string]map[int32]*service.Planned{},
		runningOps: map[string]int{},
	}
	for _, o := range opts {
		o(b)
	}
	b.chunkSize = min(max(b.chunkSize, 1), upstream.MaxSyncItems)
	b.claimCtx, b.stopClaims = context.WithCancel(context.Background())
	b.workCtx, b.abortWork = context.WithCancelCause(context.Background())
	return b, nil
}

// Start runs one runner per queue (the local one, and the shared one when
// set), each working one chunk at a time: chunks of one credential are
// paced by its budget anyway, and one at a time keeps the order of the
// locks simple.
func (b *Batcher) Start() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.started {
		return
	}
	b.started = true
	queues := []Queue{b.local}
	if b.shared != nil {
		queues = append(queues, b.shared)
	}
	for _, q := range queues {
		b.workers.Add(1)
		go func() {
			defer b.workers.Done()
			b.runQueue(q)
		}()
	}
}

// runQueue claims and runs chunks until Stop. A failed claim (the shared
// queue's Redis unreachable, say) is retried after a back-off that doubles
// from claimRetryMin to claimRetryMax, never given up: a runner that
// stopped for good would leave every batch of the fleet waiting on a
// queue nobody claims from once Redis is back.
func (b *Batcher) runQueue(q Queue) {
	retry := claimRetryMin
	for {
		cl, err := q.Claim(b.claimCtx)
		if err != nil {
			if b.claimCtx.Err() != nil {
				return
			}
			b.log.Error("batch: claim failed; retrying", "err", err, "retry_in", retry)
			t := time.NewTimer(retry)
			select {
			case <-b.claimCtx.Done():
				t.Stop()
				return
			case <-t.C:
			}
			retry = min(2*retry, claimRetryMax)
			continue
		}
		retry = claimRetryMin
		b.runChunk(b.workCtx, cl)
	}
}

// The back-off between failed claims.
const (
	claimRetryMin = 100 * time.Millisecond
	claimRetryMax = 5 * time.Second
)

// Stopping is closed once Stop began: from then on no chunk is claimed.
func (b *Batcher) Stopping() <-chan struct{} { return b.claimCtx.Done() }

// Stop ends the runner as a server stops: no new claims at once; the
// chunk in flight finishes and its outcome is recorded, unless ctx ends
// first, when it is cancelled with apierr.ErrStopping (its items then
// recorded as the single path would answer a stopping server). Then the
// queues are closed, and the operations of the local queue that are not
// done are failed with their progress: their items never sent get
// UNAVAILABLE (SHUTTING_DOWN), as nothing would run them after a restart.
func (b *Batcher) Stop(ctx context.Context, stopping error) {
	b.stopOnce.Do(func() {
		b.stopClaims()
		done := make(chan struct{})
		go func() { b.workers.Wait(); close(done) }()
		select {
		case <-done:
		case <-ctx.Done():
			b.abortWork(stopping)
			<-done
		}
		_ = b.local.Close()
		if b.shared != nil {
			_ = b.shared.Close()
		}
		b.failLocal(context.WithoutCancel(ctx))
	})
}

// failLocal fails the local queue's operations that are not done.
func (b *Batcher) failLocal(ctx context.Context) {
	b.mu.Lock()
	names := make([]string, 0, len(b.localOps))
	for n := range b.localOps {
		names = append(names, n)
	}
	b.mu.Unlock()
	for _, name := range names {
		if err := b.finishEarly(ctx, name, errShuttingDown(msgShuttingDown), errShuttingDown(msgBatchShutdown)); err != nil {
			b.log.Error("batch: cannot fail an operation at stop", "operation", name, "err", err)
		}
	}
}

// forget drops what this process keeps of a done operation.
func (b *Batcher) forget(name string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	delete(b.tokens, name)
	delete(b.localOps, name)
	delete(b.plans, name)
}

// keepPlans keeps the plans of a submitted operation's items.
func (b *Batcher) keepPlans(name string, items []planned) {
	m := make(map[int32]*service.Planned, len(items))
	for _, it := range items {
		m[it.index] = it.plan
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.plans[name] = m
}

// takePlan returns, once, the plan kept for an item, or nil.
func (b *Batcher) takePlan(name string, index int32) *service.Planned {
	b.mu.Lock()
	defer b.mu.Unlock()
	p := b.plans[name][index]
	delete(b.plans[name], index)
	return p
}

// remember keeps a local operation's token ("" in client-credentials mode).
func (b *Batcher) remember(name, token string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.localOps[name] = struct{}{}
	if token != "" {
		b.tokens[name] = token
	}
}

// token returns the pass-through token of a local operation.
func (b *Batcher) token(name string) (string, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	t, ok := b.tokens[name]
	return t, ok
}

// errStale is returned by an Update function that changes nothing.
var errStale = errors.New("batch: nothing to change")
