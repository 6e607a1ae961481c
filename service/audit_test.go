package service_test

import (
	"bytes"
	"context"
	"encoding/json"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/fieldmaskpb"

	directoryv1 "github.com/procore-directory/procore-directory/gen/procore/directory/v1"
	"github.com/procore-directory/procore-directory/service"
	"github.com/procore-directory/procore-directory/service/apierr"
	"github.com/procore-directory/procore-directory/service/audit"
	"github.com/procore-directory/procore-directory/upstream"
	"github.com/procore-directory/procore-directory/upstream/procoretest"
)

// failingSink is a Sink that cannot be written while down.
type failingSink struct {
	mu   sync.Mutex
	down bool
}

func (*failingSink) Name() string { return "test" }
func (f *failingSink) Write(context.Context, [][]byte) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.down {
		return errDown
	}
	return nil
}
func (f *failingSink) set(down bool) { f.mu.Lock(); f.down = down; f.mu.Unlock() }

var errDown = status.Error(codes.Unavailable, "down")

// trail is a recorder writing JSON lines to a buffer (the stderr sink's
// shape), plus extra sinks.
type trail struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (t *trail) Write(p []byte) (int, error) { t.mu.Lock(); defer t.mu.Unlock(); return t.buf.Write(p) }

func (t *trail) events(tb testing.TB) []audit.Event {
	tb.Helper()
	t.mu.Lock()
	defer t.mu.Unlock()
	var out []audit.Event
	for _, line := range bytes.Split(bytes.TrimSpace(t.buf.Bytes()), []byte("\n")) {
		if len(line) == 0 {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal(line, &m); err != nil || m["msg"] != "audit" {
			tb.Fatalf("not an audit line: %s", line)
		}
		var e audit.Event
		if err := json.Unmarshal(line, &e); err != nil {
			tb.Fatal(err)
		}
		out = append(out, e)
	}
	return out
}

// finals are the update events of evs (not the write-ahead records).
func finals(evs []audit.Event) []audit.Event {
	var out []audit.Event
	for _, e := range evs {
		if e.Event == audit.KindUpdate {
			out = append(out, e)
		}
	}
	return out
}

func (t *trail) raw() string { t.mu.Lock(); defer t.mu.Unlock(); return t.buf.String() }

func auditedService(t *testing.T, extra ...audit.Sink) (*service.Service, *procoretest.Server, *trail) {
	t.Helper()
	tr := &trail{}
	rec := audit.NewRecorder(append([]audit.Sink{audit.NewWriterSink(tr)}, extra...),
		audit.WithRequired(true), audit.WithReplica("replica-a"),
		audit.WithCaller(func(context.Context) string { return "spiffe://example.org/hr" }))
	svc, emu := realService(t, service.WithAuditor(rec))
	return svc, emu, tr
}

func titleUpdate(title string) *directoryv1.UpdateCompanyUserRequest {
	return &directoryv1.UpdateCompanyUserRequest{CompanyId: 8089, Id: 1001,
		User: &directoryv1.CompanyUser{JobTitle: proto.String(title)}, UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"job_title"}}}
}

// TestAuditOneEventPerOutcome: each single update's outcome is one event
// with the schema's keys, the fields sent (names only) and the outcome
// Procore's answer (or the read-back) proves; with the trail required,
// each PATCH is preceded by its write-ahead record (sending, unknown, the
// same call and fields), and nothing else is.
func TestAuditOneEventPerOutcome(t *testing.T) {
	cases := []struct {
		name     string
		faults   []procoretest.Fault
		req      *directoryv1.UpdateCompanyUserRequest
		outcome  string
		code     codes.Code
		reason   string
		upstream int
		patches  int
	}{
		{name: "applied", req: titleUpdate("Applied"), outcome: audit.OutcomeApplied, upstream: 200, patches: 1},
		{name: "definite refusal", faults: []procoretest.Fault{procoretest.FaultDelay(0), procoretest.FaultStatus(403, "application/json", `{"errors":"forbidden"}`, nil)},
			req: titleUpdate("Refused"), outcome: audit.OutcomeNotApplied, code: codes.PermissionDenied, reason: apierr.ReasonUpstreamPermissionDenied, upstream: 403, patches: 1},
		{name: "5xx read back not applied", faults: []procoretest.Fault{procoretest.FaultDelay(0), procoretest.FaultStatus(502, "text/html", "", nil)},
			req: titleUpdate("Lost"), outcome: audit.OutcomeNotApplied, code: codes.Aborted, reason: apierr.ReasonUpstreamNotApplied, upstream: 502, patches: 1},
		{name: "apply then drop read back applied", faults: []procoretest.Fault{procoretest.FaultDelay(0), procoretest.FaultDropAfterApply()},
			req: titleUpdate("Dropped"), outcome: audit.OutcomeApplied, patches: 1},
		{name: "invalid request refused", req: &directoryv1.UpdateCompanyUserRequest{CompanyId: 8089, Id: 1001},
			outcome: audit.OutcomeRefused, code: codes.InvalidArgument, reason: apierr.ReasonInvalidRequest},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			svc, emu, tr := auditedService(t)
			emu.Script(c.faults...)
			ctx, _ := upstream.WithCallStats(audit.WithCallID(context.Background(), "call-1"))
			_, err := svc.UpdateCompanyUser(ctx, c.req)
			if status.Code(err) != c.code {
				t.Fatalf("%v, want %v", err, c.code)
			}
			evs := tr.events(t)
			if len(evs) != c.patches+1 {
				t.Fatalf("%d events, want %d write-ahead records and the outcome:\n%s", len(evs), c.patches, tr.raw())
			}
			e := evs[len(evs)-1]
			for _, w := range evs[:c.patches] {
				if w.Event != audit.KindSending || w.Outcome != audit.OutcomeUnknown || w.Code != "" || w.CallID != "call-1" ||
					w.UserID != 1001 || !slices.Equal(w.Fields, e.Fields) || w.Time.After(e.Time) {
					t.Errorf("write-ahead record %+v, outcome %+v", w, e)
				}
			}
			if e.Outcome != c.outcome || e.Code != c.code.String() || e.Reason != c.reason {
				t.Errorf("outcome %s code %s reason %s, want %s %s %s", e.Outcome, e.Code, e.Reason, c.outcome, c.code, c.reason)
			}
			if c.upstream != 0 && e.UpstreamStatus != c.upstream {
				t.Errorf("upstream_status %d, want %d", e.UpstreamStatus, c.upstream)
			}
			if e.Event != "update" || e.Caller != "spiffe://example.org/hr" || e.CallID != "call-1" || e.Replica != "replica-a" ||
				e.CompanyID != 8089 || e.UserID != 1001 || e.Time.Location().String() != "UTC" {
				t.Errorf("event %+v", e)
			}
			if c.patches > 0 && !slices.Contains(e.Fields, "job_title") {
				t.Errorf("fields %v, want job_title among them", e.Fields)
			}
			if n := countPatches(emu); n != c.patches {
				t.Errorf("%d PATCHes, want %d", n, c.patches)
			}
			assertKeys(t, tr.raw())
		})
	}
}

// schemaKeys are the event's keys, exactly as the issue lists them.
var schemaKeys = []string{"time", "event", "caller", "company_id", "user_id", "fields", "outcome", "code", "reason",
	"request_id", "call_id", "upstream_status", "upstream_request_id", "trace_id", "operation", "replica"}

func assertKeys(t *testing.T, raw string) {
	t.Helper()
	for _, line := range bytes.Split(bytes.TrimSpace([]byte(raw)), []byte("\n")) {
		var m map[string]any
		if err := json.Unmarshal(line, &m); err != nil {
			t.Fatal(err)
		}
		delete(m, "msg")
		var keys []string
		for k := range m {
			keys = append(keys, k)
		}
		want := slices.Clone(schemaKeys)
		slices.Sort(keys)
		slices.Sort(want)
		if !slices.Equal(keys, want) {
			t.Fatalf("keys %v, want %v", keys, want)
		}
	}
}

// TestAuditBeforeTheCallerHears: the call does not return while its event
// is being written.
func TestAuditBeforeTheCallerHears(t *testing.T) {
	gate := &gateSink{entered: make(chan struct{}), release: make(chan struct{})}
	rec := audit.NewRecorder([]audit.Sink{gate})
	svc, _ := realService(t, service.WithAuditor(rec))
	done := make(chan error, 1)
	go func() {
		_, err := svc.UpdateCompanyUser(context.Background(), titleUpdate("Ordered"))
		done <- err
	}()
	<-gate.entered
	select {
	case err := <-done:
		t.Fatalf("the call returned (%v) while its event was being written", err)
	default:
	}
	close(gate.release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

type gateSink struct{ entered, release chan struct{} }

func (*gateSink) Name() string { return "gate" }
func (g *gateSink) Write(context.Context, [][]byte) error {
	close(g.entered)
	<-g.release
	return nil
}

// TestAuditRequiredRefusesBeforeSending: with a required sink that cannot
// be written, an update is UNAVAILABLE AUDIT_UNAVAILABLE and nothing is
// sent, from the first write after the sink failed (its write-ahead
// record is that write); once the sink is back, updates go through.
func TestAuditRequiredRefusesBeforeSending(t *testing.T) {
	sink := &failingSink{}
	svc, emu, tr := auditedService(t, sink)
	if _, err := svc.UpdateCompanyUser(context.Background(), titleUpdate("Before")); err != nil {
		t.Fatal(err)
	}
	before := countPatches(emu)
	sink.set(true)
	_, err := svc.UpdateCompanyUser(context.Background(), titleUpdate("Refused"))
	if status.Code(err) != codes.Unavailable || reasonOf(err) != apierr.ReasonAuditUnavailable {
		t.Fatalf("%v, want UNAVAILABLE AUDIT_UNAVAILABLE", err)
	}
	if n := countPatches(emu); n != before {
		t.Fatalf("%d PATCHes sent while the audit was down", n-before)
	}
	sink.set(false)
	if _, err := svc.UpdateCompanyUser(context.Background(), titleUpdate("After")); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range tr.events(t) {
		got = append(got, e.Event+":"+e.Outcome)
	}
	// The refused update's record reached stderr before the failing sink
	// refused it; its outcome says nothing was sent.
	want := []string{"sending:unknown", "update:applied", "sending:unknown", "update:refused", "sending:unknown", "update:applied"}
	if !slices.Equal(got, want) {
		t.Fatalf("events %v, want %v", got, want)
	}
}

func reasonOf(err error) string {
	for _, d := range status.Convert(err).Details() {
		if info, ok := d.(interface{ GetReason() string }); ok {
			return info.GetReason()
		}
	}
	return ""
}

// piiPatterns find what must never be in the trail: e-mail addresses,
// phone numbers, tokens (bearer or long hex/base64 runs).
var piiPatterns = []*regexp.Regexp{
	regexp.MustCompile(`[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}`),
	regexp.MustCompile(`\+?\d[\d ().-]{7,}\d`),
	regexp.MustCompile(`(?i)bearer`),
}

// scanForPII fails t when raw (the trail's lines) holds any of values or
// anything personal. The values are looked for everywhere; the patterns
// everywhere but in the time and the ids (a clock's and a generator's
// digits, which a phone number pattern would match).
func scanForPII(t *testing.T, raw string, values []string) {
	t.Helper()
	for _, v := range values {
		if strings.Contains(raw, v) {
			t.Errorf("the trail holds the value %q", v)
		}
	}
	var lines []string
	for _, line := range bytes.Split(bytes.TrimSpace([]byte(raw)), []byte("\n")) {
		var m map[string]any
		if err := json.Unmarshal(line, &m); err != nil {
			t.Fatal(err)
		}
		for _, k := range []string{"time", "request_id", "call_id", "upstream_request_id", "trace_id"} {
			delete(m, k)
		}
		b, _ := json.Marshal(m)
		lines = append(lines, string(b))
	}
	raw = strings.Join(lines, "\n")
	for _, p := range piiPatterns {
		if m := p.FindString(raw); m != "" {
			t.Errorf("the trail holds %q (%s)", m, p)
		}
	}
}

// TestAuditHoldsNothingPersonal runs updates of personal fields through
// success and failure and scans every event for the values sent, e-mail
// addresses, phone numbers and tokens.
func TestAuditHoldsNothingPersonal(t *testing.T) {
	svc, emu, tr := auditedService(t)
	values := []string{"new.person@example.com", "+1 415 555 0199", "Zanzibar-Street-77", "Quintessa"}
	req := func() *directoryv1.UpdateCompanyUserRequest {
		return &directoryv1.UpdateCompanyUserRequest{CompanyId: 8089, Id: 1001,
			User: &directoryv1.CompanyUser{EmailAddress: proto.String(values[0]), MobilePhone: proto.String(values[1]),
				Address: proto.String(values[2]), FirstName: proto.String(values[3])},
			UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"email_address", "mobile_phone", "address", "first_name"}}}
	}
	runs := [][]procoretest.Fault{nil,
		{procoretest.FaultDelay(0), procoretest.FaultStatus(422, "application/json", `{"errors":{"email_address":["is taken"]}}`, nil)},
		{procoretest.FaultDelay(0), procoretest.FaultStatus(500, "", "", nil)},
		{procoretest.FaultDelay(0), procoretest.FaultDropAfterApply()},
	}
	for _, f := range runs {
		emu.Script(f...)
		_, _ = svc.UpdateCompanyUser(context.Background(), req())
	}
	bad := req()
	bad.User.EmailAddress = proto.String("not an e-mail")
	_, _ = svc.UpdateCompanyUser(context.Background(), bad)
	if n := len(finals(tr.events(t))); n != len(runs)+1 {
		t.Fatalf("%d events, want %d:\n%s", n, len(runs)+1, tr.raw())
	}
	scanForPII(t, tr.raw(), append(values, "not an e-mail"))
	if countPatches(emu) == 0 {
		t.Fatal("nothing was sent")
	}
}
