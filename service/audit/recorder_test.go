package audit_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/procore-directory/procore-directory/service/audit"
)

type brokenSink struct{}

func (brokenSink) Name() string { return "redis" }
func (brokenSink) Write(context.Context, *audit.Event, []byte) error {
	return errors.New("connection refused")
}
func (brokenSink) Check(context.Context) error { return errors.New("connection refused") }

// TestRecorderSinks: the stderr sink writes "msg":"audit" lines, the file
// sink appends the same event; a sink that fails is counted by name,
// logged with the event, and (required) refuses updates until it checks.
func TestRecorderSinks(t *testing.T) {
	var stderr, logs bytes.Buffer
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	file, err := audit.OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	defer file.Close()
	lost := map[string]int{}
	at := time.Date(2026, 12, 1, 10, 0, 0, 0, time.FixedZone("X", 3600))
	rec := audit.NewRecorder([]audit.Sink{audit.NewWriterSink(&stderr), file, brokenSink{}},
		audit.WithRequired(true), audit.WithReplica("r1"), audit.WithClock(func() time.Time { return at }),
		audit.WithLost(func(s string) { lost[s]++ }), audit.WithLogger(slogJSON(&logs)))
	ctx := audit.WithBatch(audit.WithCallID(context.Background(), "c1"), "CN=ops", "operations/7")
	if err := rec.Ready(ctx, "update"); err != nil {
		t.Fatalf("ready before any failure: %v", err)
	}
	err = rec.Record(ctx, audit.Event{CompanyID: 1, UserID: 2, Fields: []string{"job_title"}, Outcome: audit.OutcomeApplied, Code: "OK"})
	if err == nil {
		t.Fatal("a failed sink was not reported")
	}
	if lost["redis"] != 1 || len(lost) != 1 {
		t.Fatalf("lost %v", lost)
	}
	if !strings.Contains(logs.String(), "audit event lost") {
		t.Fatalf("log %s", logs.String())
	}
	if err := rec.Ready(ctx, "update"); err == nil || !strings.Contains(err.Error(), "audit") {
		t.Fatalf("ready with a failed required sink: %v", err)
	}
	fromFile, _ := os.ReadFile(path)
	var e audit.Event
	if err := json.Unmarshal(fromFile, &e); err != nil {
		t.Fatal(err)
	}
	if e.Caller != "CN=ops" || e.Operation != "operations/7" || e.CallID != "c1" || e.Replica != "r1" ||
		!e.Time.Equal(at) || e.Time.Location() != time.UTC || !strings.Contains(string(fromFile), `"time":"2026-12-01T09:00:00Z"`) {
		t.Fatalf("file event %s", fromFile)
	}
	if !strings.HasPrefix(stderr.String(), `{"msg":"audit","time":"2026-12-01T09:00:00Z"`) {
		t.Fatalf("stderr %s", stderr.String())
	}
}
