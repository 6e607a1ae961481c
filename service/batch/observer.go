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
