package batch

// Observer is told how the runner progresses, for metrics:
// service/telemetry's BatchMetrics implements it, so this package stays
// free of Prometheus. Calls come from the runners' goroutines and must
// not block.
type Observer interface {
	// BatchesInFlight is the number of operations this replica is now
	// running a chunk of.
	BatchesInFlight(n int)
	// ItemsSettled counts items that got their outcome just now.
	ItemsSettled(succeeded, failed int)
}

// WithObserver sets the Observer; the default observes nothing.
func WithObserver(o Observer) Option {
	return func(b *Batcher) {
		if o != nil {
			b.obs = o
		}
	}
}

type nopObserver struct{}

func (nopObserver) BatchesInFlight(int)   {}
func (nopObserver) ItemsSettled(int, int) {}

// running counts a chunk of the operation name starting (+1) or ending
// (-1) on this replica, and tells the Observer how many operations have a
// chunk running.
func (b *Batcher) running(name string, delta int) {
	b.mu.Lock()
	b.runningOps[name] += delta
	if b.runningOps[name] <= 0 {
		delete(b.runningOps, name)
	}
	n := len(b.runningOps)
	b.mu.Unlock()
	b.obs.BatchesInFlight(n)
}

// settled are the items an update of an operation settled.
type settled struct{ succeeded, failed int32 }

// settleCounting applies fn to st and returns the items it settled.
func settleCounting(st *opState, fn func()) settled {
	ok0, failed0 := st.meta.GetSucceeded(), st.meta.GetFailed()
	fn()
	return settled{st.meta.GetSucceeded() - ok0, st.meta.GetFailed() - failed0}
}

// observe tells the Observer of items settled by an update that was
// written.
func (b *Batcher) observe(s settled) { b.obs.ItemsSettled(int(s.succeeded), int(s.failed)) }

// tally tells the Observer of a chunk's items one at a time, as each gets
// its outcome by a Procore request of its own (a single PATCH, a
// read-back): at Procore's pace such a chunk takes minutes (1,000 PATCHes
// at one a second, about 17), and a chunk told only at its end would look
// like a batch making no progress (DirectorydBatchNoProgress). The
// outcomes are still recorded in the operation once, at the end of the
// chunk; record then tells only what was not told yet. An item told
// whose outcome the record then drops (the operation ended meanwhile, or
// the record failed and the chunk is read back later) is counted all the
// same: it was settled on this replica.
type tally struct {
	obs  Observer
	told settled
}

// newTally starts the tally of one chunk.
func (b *Batcher) newTally() *tally { return &tally{obs: b.obs} }

// one tells of one item's outcome, counted as the operation counts it.
func (t *tally) one(o outcome) {
	if o.applied() {
		t.told.succeeded++
		t.obs.ItemsSettled(1, 0)
		return
	}
	t.told.failed++
	t.obs.ItemsSettled(0, 1)
}

// untold is what s, the items a record settled, holds beyond those told.
func (t *tally) untold(s settled) settled {
	return settled{max(s.succeeded-t.told.succeeded, 0), max(s.failed-t.told.failed, 0)}
}

// Names of the queues in QueueDepths: the queue label of
// directoryd_batch_chunks_queued.
const (
	// QueueLocal is this replica's memory queue (operations with a
	// pass-through token, or every operation without a shared queue).
	QueueLocal = "local"
	// QueueShared is the fleet's queue (WithQueue): every replica reads,
	// and reports, the same one.
	QueueShared = "shared"
)

// QueueDepths are the queues this replica's runners read that tell their
// depth, by name: the local queue, and the shared one when it is a
// Depther. Metrics read them at scrape time.
func (b *Batcher) QueueDepths() map[string]Depther {
	m := map[string]Depther{QueueLocal: b.local}
	if d, ok := b.shared.(Depther); ok {
		m[QueueShared] = d
	}
	return m
}
