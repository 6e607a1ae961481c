package audit_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/procore-directory/procore-directory/service/audit"
)

// brokenSink cannot be written; it counts the writes tried.
type brokenSink struct{ writes *int }

func (brokenSink) Name() string { return "redis" }
func (b brokenSink) Write(context.Context, [][]byte) error {
	*b.writes++
	return errors.New("connection refused")
}

// TestRecorderSinks: the stderr sink writes "msg":"audit" lines, the file
// sink appends the same event; a sink that fails is counted by name and
// logged with the event, and (required) refuses a write-ahead record
// with AUDIT_UNAVAILABLE naming it, without counting a lost event.
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
	writes := 0
	rec := audit.NewRecorder([]audit.Sink{audit.NewWriterSink(&stderr), file, brokenSink{&writes}},
		audit.WithRequired(true), audit.WithReplica("r1"), audit.WithClock(func() time.Time { return at }),
		audit.WithLost(func(s string) { lost[s]++ }), audit.WithLogger(slogJSON(&logs)))
	ctx := audit.WithBatch(audit.WithCallID(context.Background(), "c1"), "CN=ops", "operations/7")
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
	err = rec.Sending(ctx, "update", audit.Event{CompanyID: 1, UserID: 3, Fields: []string{"job_title"}, Outcome: audit.OutcomeApplied, Code: "OK"})
	if st := status.Convert(err); st.Code() != codes.Unavailable || !strings.Contains(st.Message(), "audit") || !strings.Contains(fmt.Sprint(st.Details()), "redis") {
		t.Fatalf("a write-ahead record a required sink cannot write: %v", err)
	}
	if lost["redis"] != 1 || writes != 2 {
		t.Fatalf("lost %v after a refused write-ahead record (want it not counted), %d writes tried", lost, writes)
	}
	lines := strings.Split(strings.TrimSpace(readFile(t, path)), "\n")
	if len(lines) != 2 || !strings.Contains(lines[1], `"event":"sending","caller":"CN=ops","company_id":1,"user_id":3,"fields":["job_title"],"outcome":"unknown","code":"","reason":""`) {
		t.Fatalf("file after the write-ahead record:\n%s", strings.Join(lines, "\n"))
	}
	fromFile := []byte(lines[0])
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

// TestSendingOnlyWhenRequired: without Required no write-ahead record is
// written (a failed sink would refuse nothing); with it, the records of a
// sync's items reach each sink in one write, in order.
func TestSendingOnlyWhenRequired(t *testing.T) {
	ctx := context.Background()
	for _, required := range []bool{false, true} {
		var out countingWriter
		rec := audit.NewRecorder([]audit.Sink{audit.NewWriterSink(&out)}, audit.WithRequired(required))
		if err := rec.Sending(ctx, "update", audit.Event{UserID: 1}, audit.Event{UserID: 2}, audit.Event{UserID: 3}); err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(strings.TrimSpace(out.String()), "\n")
		switch {
		case !required && out.Len() != 0:
			t.Errorf("not required: wrote %q", out.String())
		case required && (out.writes != 1 || len(lines) != 3 || !strings.Contains(lines[2], `"event":"sending"`) || !strings.Contains(lines[2], `"user_id":3`)):
			t.Errorf("required: %d writes of\n%s", out.writes, out.String())
		}
	}
}

// countingWriter is a buffer that counts its writes.
type countingWriter struct {
	bytes.Buffer
	writes int
}

func (w *countingWriter) Write(p []byte) (int, error) { w.writes++; return w.Buffer.Write(p) }

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
