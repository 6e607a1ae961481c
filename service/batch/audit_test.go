package batch_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"google.golang.org/grpc/codes"

	"github.com/procore-directory/procore-directory/service"
	"github.com/procore-directory/procore-directory/service/apierr"
	"github.com/procore-directory/procore-directory/service/audit"
	"github.com/procore-directory/procore-directory/service/batch"
	"github.com/procore-directory/procore-directory/upstream/procoretest"
)

// submitterKey marks the submitting call's context: only there does the
// test's caller function find a caller, so an event that names it proves
// the runner carried it.
type submitterKey struct{}

type lines struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *lines) Write(p []byte) (int, error) { l.mu.Lock(); defer l.mu.Unlock(); return l.buf.Write(p) }

func (l *lines) events(tb testing.TB) []audit.Event {
	tb.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []audit.Event
	for _, line := range bytes.Split(bytes.TrimSpace(l.buf.Bytes()), []byte("\n")) {
		if len(line) == 0 {
			continue
		}
		var e audit.Event
		if err := json.Unmarshal(line, &e); err != nil {
			tb.Fatal(err)
		}
		out = append(out, e)
	}
	return out
}

func auditedHarness(t *testing.T, cfg harnessConfig) (*harness, *lines) {
	t.Helper()
	out := &lines{}
	rec := audit.NewRecorder([]audit.Sink{audit.NewWriterSink(out)}, audit.WithCaller(func(ctx context.Context) string {
		s, _ := ctx.Value(submitterKey{}).(string)
		return s
	}))
	cfg.coreOpts = append(cfg.coreOpts, service.WithAuditor(rec))
	return newHarness(t, cfg), out
}

// TestBatchItemsAreAudited: each item's outcome is an event naming the
// submitter, the call that submitted it and the operation, written before
// the operation is done; a sync whose answer was lost writes unknown, then
// the read-back's settled outcome; fallback PATCHes and a chunk an earlier
// holder may have sent are audited alike.
func TestBatchItemsAreAudited(t *testing.T) {
	cases := []struct {
		name   string
		cfg    harnessConfig
		faults []procoretest.Fault
		// want is the outcomes, in order, of each user.
		want map[int64][]string
		// status is the upstream_status of the final events.
		status int
		// fields are those sent, when not last_name alone.
		fields []string
	}{
		{name: "sync applied", want: map[int64][]string{1: {"applied"}, 2: {"applied"}, 3: {"applied"}}, status: 200},
		{name: "sync applied, answer lost", faults: []procoretest.Fault{procoretest.FaultApplyThenStatus(500)},
			want: map[int64][]string{1: {"unknown", "applied"}, 2: {"unknown", "applied"}, 3: {"unknown", "applied"}}, status: 500},
		{name: "fallback PATCHes", cfg: harnessConfig{emuOpts: []procoretest.Option{procoretest.WithSync(procoretest.SyncForbidden)}},
			want: map[int64][]string{1: {"applied"}, 2: {"applied"}, 3: {"applied"}}, status: 200,
			fields: []string{"email_address", "last_name"}}, // a PATCH carries the required fields
		{name: "maybe sent, read back", cfg: harnessConfig{opts: []batch.Option{batch.WithQueue(maybeSentQueue{batch.NewMemoryQueue()})}},
			want: map[int64][]string{1: {"not_applied"}, 2: {"not_applied"}, 3: {"not_applied"}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			c.cfg.users = 4
			h, out := auditedHarness(t, c.cfg)
			h.emu.Script(c.faults...)
			ctx := audit.WithCallID(context.WithValue(context.Background(), submitterKey{}, "CN=submitter"), "call-7")
			op, err := h.b.Submit(ctx, lastNames(1, 2, 3))
			if err != nil {
				t.Fatal(err)
			}
			h.wait(t, op) // the events are written before the operation records the outcomes
			if c.fields == nil {
				c.fields = []string{"last_name"}
			}
			got := map[int64][]string{}
			for _, e := range out.events(t) {
				got[e.UserID] = append(got[e.UserID], e.Outcome)
				if e.Caller != "CN=submitter" || e.CallID != "call-7" || e.Operation != op.GetName() ||
					!slices.Equal(e.Fields, c.fields) || e.CompanyID != companyID {
					t.Errorf("event %+v", e)
				}
				if last := got[e.UserID]; c.status != 0 && len(last) == len(c.want[e.UserID]) && e.UpstreamStatus != c.status {
					t.Errorf("user %d: final upstream_status %d, want %d", e.UserID, e.UpstreamStatus, c.status)
				}
			}
			for id, want := range c.want {
				if !slices.Equal(got[id], want) {
					t.Errorf("user %d: outcomes %v, want %v", id, got[id], want)
				}
			}
			if len(got) != len(c.want) {
				t.Errorf("events for users %v, want %v", got, c.want)
			}
		})
	}
}

// aheadSink records, at each write, the events written and how many API
// requests Procore had received by then; while down it refuses writes.
type aheadSink struct {
	emu *procoretest.Server
	mu  sync.Mutex
	// writes: per write, the events' kinds and the requests seen before.
	writes []aheadWrite
	down   bool
}

type aheadWrite struct {
	kinds    []string
	requests int
}

func (*aheadSink) Name() string { return "ahead" }
func (s *aheadSink) Write(_ context.Context, lines [][]byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.down {
		return errors.New("down")
	}
	w := aheadWrite{requests: len(apiRequests(s.emu))}
	for _, l := range lines {
		var e audit.Event
		_ = json.Unmarshal(l, &e)
		w.kinds = append(w.kinds, e.Event)
	}
	s.writes = append(s.writes, w)
	return nil
}

// TestBatchSyncWritesAhead: with the trail required, a sync's items are
// written ahead, in one write per sink, before the sync leaves; when a
// required sink cannot be written, the batch's items fail UNAVAILABLE
// AUDIT_UNAVAILABLE and nothing reaches Procore.
func TestBatchSyncWritesAhead(t *testing.T) {
	for _, down := range []bool{false, true} {
		t.Run(fmt.Sprintf("down=%v", down), func(t *testing.T) {
			sink := &aheadSink{down: down}
			rec := audit.NewRecorder([]audit.Sink{sink}, audit.WithRequired(true))
			h := newHarness(t, harnessConfig{users: 4, coreOpts: []service.Option{service.WithAuditor(rec)}})
			sink.emu = h.emu
			op, err := h.b.Submit(context.Background(), lastNames(1, 2, 3))
			if err != nil {
				t.Fatal(err)
			}
			_, md := h.wait(t, op)
			reqs := apiRequests(h.emu)
			sink.mu.Lock()
			defer sink.mu.Unlock()
			if down {
				if len(reqs) != 0 || md.GetFailed() != 3 {
					t.Fatalf("%d requests reached Procore, %d items failed; want none and 3", len(reqs), md.GetFailed())
				}
				for _, st := range md.GetFailedRequests() {
					if codes.Code(st.GetCode()) != codes.Unavailable || !strings.Contains(st.String(), apierr.ReasonAuditUnavailable) {
						t.Errorf("item: %v, want UNAVAILABLE AUDIT_UNAVAILABLE", st)
					}
				}
				return
			}
			want := []aheadWrite{{kinds: []string{"sending", "sending", "sending"}, requests: 0}}
			if md.GetSucceeded() != 3 || len(reqs) != 1 || len(sink.writes) < 1 || !slices.Equal(sink.writes[0].kinds, want[0].kinds) || sink.writes[0].requests != 0 {
				t.Fatalf("%d succeeded, %d requests; writes %+v, want first %+v", md.GetSucceeded(), len(reqs), sink.writes, want[0])
			}
			for _, w := range sink.writes[1:] {
				if !slices.Equal(w.kinds, []string{"update"}) || w.requests != 1 {
					t.Errorf("write after the sync: %+v, want one update event", w)
				}
			}
		})
	}
}
