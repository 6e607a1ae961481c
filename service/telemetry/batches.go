package telemetry

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Batch item results, the result label of directoryd_batch_items_total:
// the operation metadata's succeeded and failed counts.
const (
	BatchItemSucceeded = "succeeded"
	BatchItemFailed    = "failed"
)

// BatchMetrics is the batch operation's instrumentation: operations in
// flight, chunks queued (ChunksQueued), items settled, and when an item
// last settled, which together tell a batch that makes no progress (the
// DirectorydBatchNoProgress alert of deploy/prometheus/rules.yml). The batcher calls it through an
// observer interface of its own, so service/batch stays free of
// Prometheus, as the core does with outcomes.
type BatchMetrics struct {
	reg          prometheus.Registerer
	inFlight     prometheus.Gauge
	items        *prometheus.CounterVec
	lastProgress prometheus.Gauge
}

// BatchMetrics registers the batch operation's metrics and returns them.
// It is called only where directoryd runs the batcher, so that a build or
// configuration without batch operations exposes no batch series.
func (t *Telemetry) BatchMetrics() (*BatchMetrics, error) {
	m := &BatchMetrics{
		reg: t.Registry,
		inFlight: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "directoryd_batch_operations_in_flight",
			Help: "Batch operations this replica is running (accepted, not done, a chunk of them claimed here).",
		}),
		items: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "directoryd_batch_items_total",
			Help: "Items of batch operations settled on this replica, by result (succeeded or failed): their progress.",
		}, []string{"result"}),
		lastProgress: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "directoryd_batch_last_progress_timestamp_seconds",
			Help: "When an item of a batch operation last settled on this replica (Unix seconds; 0: never).",
		}),
	}
	for _, c := range []prometheus.Collector{m.inFlight, m.items, m.lastProgress} {
		if err := t.Registry.Register(c); err != nil {
			return nil, fmt.Errorf("metrics: %w", err)
		}
	}
	for _, r := range []string{BatchItemSucceeded, BatchItemFailed} {
		m.items.WithLabelValues(r) // exported at 0 from the start
	}
	return m, nil
}

// BatchesInFlight sets how many batch operations this replica is running.
func (m *BatchMetrics) BatchesInFlight(n int) { m.inFlight.Set(float64(n)) }

// ItemsSettled counts items that settled now; any item is progress.
func (m *BatchMetrics) ItemsSettled(succeeded, failed int) {
	if succeeded+failed <= 0 {
		return
	}
	m.items.WithLabelValues(BatchItemSucceeded).Add(float64(max(succeeded, 0)))
	m.items.WithLabelValues(BatchItemFailed).Add(float64(max(failed, 0)))
	m.lastProgress.SetToCurrentTime()
}

// chunksQueuedTimeout bounds a scrape's read of a queue's depth (the
// shared queue's is a Redis command), well within Prometheus's scrape
// timeout (10 s by default).
const chunksQueuedTimeout = time.Second

// ChunksQueued registers directoryd_batch_chunks_queued{queue}: the chunks
// submitted and not done in a queue this replica reads, read by depth at
// each scrape. Unlike operations in flight it counts chunks nobody runs,
// so a batch whose chunks no runner claims (runners dead, claims failing)
// still shows. queue is "local" (this replica's own) or "shared" (the
// fleet's, the same from every replica: aggregate it with max, not sum).
//
// When depth fails (Redis unreachable, or slower than
// chunksQueuedTimeout) the gauge keeps the last depth read (0 before
// any): a queue last seen holding chunks that cannot be read now is the
// stuck case itself (claims fail alike), which NaN would hide from the
// alert; directoryd_shared_state_up tells that Redis is unreachable.
func (m *BatchMetrics) ChunksQueued(queue string, depth func(context.Context) (int, error)) error {
	var (
		mu   sync.Mutex
		last float64
	)
	g := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name:        "directoryd_batch_chunks_queued",
		Help:        "Chunks of batch operations submitted and not done in a queue this replica reads (queue: local, or shared by the fleet), claimed or not; on a failed read, the last depth read.",
		ConstLabels: prometheus.Labels{"queue": queue},
	}, func() float64 {
		ctx, cancel := context.WithTimeout(context.Background(), chunksQueuedTimeout)
		defer cancel()
		n, err := depth(ctx)
		mu.Lock()
		defer mu.Unlock()
		if err == nil {
			last = float64(n)
		}
		return last
	})
	if err := m.reg.Register(g); err != nil {
		return fmt.Errorf("metrics: %w", err)
	}
	return nil
}
