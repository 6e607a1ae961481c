package telemetry

import (
	"context"
	"errors"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
)

// TestBatchMetrics: the batch series exist only once registered, count
// settled items by result, and stamp the last progress only when an item
// settled.
func TestBatchMetrics(t *testing.T) {
	tel, err := New(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = tel.Shutdown(context.Background()) })
	if got := gather(t, tel); got["directoryd_batch_items_total"] != nil {
		t.Fatal("batch series exposed before BatchMetrics")
	}
	m, err := tel.BatchMetrics()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tel.BatchMetrics(); err == nil {
		t.Error("registering the batch metrics twice: no error")
	}
	if v := gather(t, tel)["directoryd_batch_last_progress_timestamp_seconds"]; len(v) != 1 || v[0].GetGauge().GetValue() != 0 {
		t.Errorf("last progress before any item: %v, want 0", v)
	}

	before := time.Now().Add(-time.Second)
	m.BatchesInFlight(2)
	m.ItemsSettled(3, 1)
	m.ItemsSettled(0, 0)
	m.ItemsSettled(1, 0)
	got := gather(t, tel)
	if v := got["directoryd_batch_operations_in_flight"][0].GetGauge().GetValue(); v != 2 {
		t.Errorf("in flight %v, want 2", v)
	}
	items := map[string]float64{}
	for _, s := range got["directoryd_batch_items_total"] {
		items[s.GetLabel()[0].GetValue()] = s.GetCounter().GetValue()
	}
	if items[BatchItemSucceeded] != 4 || items[BatchItemFailed] != 1 {
		t.Errorf("items %v, want succeeded 4, failed 1", items)
	}
	last := got["directoryd_batch_last_progress_timestamp_seconds"][0].GetGauge().GetValue()
	if last < float64(before.Unix()) || last > float64(time.Now().Add(time.Second).Unix()) {
		t.Errorf("last progress %v, want now", last)
	}
}

func gather(t *testing.T, tel *Telemetry) map[string][]*dto.Metric {
	t.Helper()
	mfs, err := tel.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]*dto.Metric{}
	for _, mf := range mfs {
		out[mf.GetName()] = mf.GetMetric()
	}
	return out
}

// TestBatchChunksQueued: each queue's depth is read at each scrape, under
// a short deadline, as a series of its own; a failed read keeps the last
// depth read (0 before any).
func TestBatchChunksQueued(t *testing.T) {
	tel, err := New(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = tel.Shutdown(context.Background()) })
	m, err := tel.BatchMetrics()
	if err != nil {
		t.Fatal(err)
	}
	type read struct {
		n   int
		err error
	}
	// The shared queue's reads, one per scrape; the local queue has 2.
	reads := []read{{0, errors.New("redis: down")}, {7, nil}, {0, errors.New("redis: i/o timeout")}, {3, nil}}
	scrape := 0
	if err := m.ChunksQueued("shared", func(ctx context.Context) (int, error) {
		if d, ok := ctx.Deadline(); !ok || time.Until(d) > chunksQueuedTimeout {
			t.Errorf("depth read without a deadline of at most %v", chunksQueuedTimeout)
		}
		r := reads[scrape]
		return r.n, r.err
	}); err != nil {
		t.Fatal(err)
	}
	if err := m.ChunksQueued("local", func(context.Context) (int, error) { return 2, nil }); err != nil {
		t.Fatal(err)
	}
	if err := m.ChunksQueued("local", func(context.Context) (int, error) { return 0, nil }); err == nil {
		t.Error("registering a queue twice: no error")
	}
	for i, want := range []float64{0, 7, 7, 3} {
		scrape = i
		got := map[string]float64{}
		for _, s := range gather(t, tel)["directoryd_batch_chunks_queued"] {
			got[s.GetLabel()[0].GetName()+"="+s.GetLabel()[0].GetValue()] = s.GetGauge().GetValue()
		}
		if len(got) != 2 || got["queue=shared"] != want || got["queue=local"] != 2 {
			t.Errorf("scrape %d (shared read %v): %v, want shared %v and local 2", i, reads[i], got, want)
		}
	}
}
