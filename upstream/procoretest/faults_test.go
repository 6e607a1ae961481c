package procoretest

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// liveClient never reuses connections, so a dropped connection is never
// retried transparently by net/http.
func liveClient() *http.Client {
	return &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 10 * time.Second}
}

type liveResp struct {
	status int
	header http.Header
	body   []byte
	err    error
}

func livePatch(t *testing.T, s *Server, tok string, fields map[string]any) liveResp {
	t.Helper()
	req, err := http.NewRequest(http.MethodPatch, s.URL+userPath(summit, 1001), bytes.NewReader(patchBody(withRequired(fields))))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("Procore-Company-Id", "8089")
	req.Header.Set("Content-Type", "application/json")
	resp, err := liveClient().Do(req)
	if err != nil {
		return liveResp{err: err}
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return liveResp{status: resp.StatusCode, header: resp.Header, body: b, err: err}
}

func jobTitle(t *testing.T, e *Emulator) string {
	raw, _ := e.User(summit, 1001)
	return decode(t, raw)["job_title"].(string)
}

func TestScriptedStatusFaults(t *testing.T) {
	tests := []struct {
		name  string
		fault Fault
		want  liveResp
		ctype string
	}{
		{"503 with Retry-After", FaultStatus(503, "text/plain", "busy", http.Header{"Retry-After": {"7"}}), liveResp{status: 503, body: []byte("busy"), header: http.Header{"Retry-After": {"7"}}}, "text/plain"},
		{"429 plain text", FaultStatus(429, "text/plain; charset=utf-8", rateLimitedText, http.Header{"Retry-After": {"3"}, "X-Rate-Limit-Remaining": {"0"}}), liveResp{status: 429, body: []byte(rateLimitedText), header: http.Header{"Retry-After": {"3"}, "X-Rate-Limit-Remaining": {"0"}}}, "text/plain"},
		{"502 HTML", FaultStatus(502, "text/html", "<html>bad gateway</html>", nil), liveResp{status: 502, body: []byte("<html>bad gateway</html>")}, "text/html"},
		{"500 empty", FaultStatus(500, "", "", http.Header{}), liveResp{status: 500, body: []byte{}}, ""},
		{"error object shape", FaultStatus(500, "application/json", `{"error":{"code":"x","message":"boom","details":[{"a":1}]}}`, nil), liveResp{status: 500, body: []byte(`{"error":{"code":"x","message":"boom","details":[{"a":1}]}}`)}, "application/json"},
		{"flat error shape", FaultStatus(400, "application/json", `{"code":"bad","message":"m","fields":["x"],"reason":"r","error":"e"}`, nil), liveResp{status: 400, body: []byte(`{"code":"bad","message":"m","fields":["x"],"reason":"r","error":"e"}`)}, "application/json"},
		{"errors text shape", FaultStatus(403, "application/json", `{"errors":"nope"}`, nil), liveResp{status: 403, body: []byte(`{"errors":"nope"}`)}, "application/json"},
		{"default 503 body", Fault{Kind: FaultKindStatus, Status: 503}, liveResp{status: 503, header: http.Header{"Retry-After": {"1"}}}, "text/plain"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := NewServer(t)
			tok := mustToken(t, s.Emulator, adminClient)
			s.Script(tc.fault)
			got := livePatch(t, s, tok, map[string]any{"job_title": "Faulted"})
			if got.err != nil || got.status != tc.want.status {
				t.Fatalf("got %d %v, want %d", got.status, got.err, tc.want.status)
			}
			if tc.want.body != nil && !bytes.Equal(got.body, tc.want.body) {
				t.Errorf("body %q, want %q", got.body, tc.want.body)
			}
			for k := range tc.want.header {
				if got.header.Get(k) != tc.want.header.Get(k) {
					t.Errorf("header %s = %q, want %q", k, got.header.Get(k), tc.want.header.Get(k))
				}
			}
			if !strings.HasPrefix(got.header.Get("Content-Type"), tc.ctype) {
				t.Errorf("content type %q, want %q", got.header.Get("Content-Type"), tc.ctype)
			}
			if got.header.Get("X-Request-Id") == "" {
				t.Error("no X-Request-Id")
			}
			if jobTitle(t, s.Emulator) == "Faulted" {
				t.Error("a status fault applied the update")
			}
			if log := s.Requests(); len(log) != 1 || log[0].Status != tc.want.status || !strings.Contains(string(log[0].Body), "Faulted") {
				t.Errorf("log %+v", log)
			}
			if again := livePatch(t, s, tok, map[string]any{"job_title": "Normal"}); again.status != 200 {
				t.Errorf("after the script: %d %s", again.status, again.body)
			}
		})
	}
}

func TestScriptedConnectionFaults(t *testing.T) {
	tests := []struct {
		name        string
		fault       Fault
		wantErr     bool
		wantStatus  int
		wantApplied bool
		wantInvalid bool
		minElapsed  time.Duration
	}{
		{name: "drop before body", fault: FaultDropBeforeBody(), wantErr: true, wantApplied: false},
		{name: "drop after apply", fault: FaultDropAfterApply(), wantErr: true, wantApplied: true},
		{name: "delay", fault: FaultDelay(30 * time.Millisecond), wantStatus: 200, wantApplied: true, minElapsed: 30 * time.Millisecond},
		{name: "malformed", fault: FaultMalformed(), wantStatus: 200, wantApplied: true, wantInvalid: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := NewServer(t)
			tok := mustToken(t, s.Emulator, adminClient)
			s.Script(tc.fault)
			start := time.Now()
			got := livePatch(t, s, tok, map[string]any{"job_title": "Faulted"})
			if (got.err != nil) != tc.wantErr {
				t.Fatalf("err %v, want error %v", got.err, tc.wantErr)
			}
			if !tc.wantErr && got.status != tc.wantStatus {
				t.Fatalf("status %d, want %d", got.status, tc.wantStatus)
			}
			if tc.wantInvalid && (json.Valid(got.body) || len(got.body) == 0 || got.body[0] != '{') {
				t.Errorf("malformed body is valid JSON or empty: %q", got.body)
			}
			if time.Since(start) < tc.minElapsed {
				t.Errorf("answered after %v, want at least %v", time.Since(start), tc.minElapsed)
			}
			if applied := jobTitle(t, s.Emulator) == "Faulted"; applied != tc.wantApplied {
				t.Errorf("applied %v, want %v", applied, tc.wantApplied)
			}
			log := s.Requests()
			if len(log) != 1 {
				t.Fatalf("log has %d entries", len(log))
			}
			if tc.wantErr && log[0].Status != 0 {
				t.Errorf("dropped request logged with status %d", log[0].Status)
			}
			if tc.fault.Kind == FaultKindDropBeforeBody && log[0].RawBody != "" {
				t.Error("drop before body read the body")
			}
			if again := livePatch(t, s, tok, nil); again.status != 200 {
				t.Errorf("after the script: %d %v", again.status, again.err)
			}
		})
	}
}

// TestScriptOrder: faults go to the next API requests in order; token and
// control requests neither consume nor receive them.
func TestScriptOrder(t *testing.T) {
	s := NewServer(t)
	e := s.Emulator
	tok := mustToken(t, e, adminClient)
	e.Script(FaultStatus(502, "", "", nil), FaultStatus(504, "", "", nil))
	e.Script(FaultStatus(500, "", "", nil))
	field, ok := e.NonAdminClient()
	if !ok {
		t.Fatal("seed has no non-admin client")
	}
	_ = s.Token(t, field) // fails the test if the token request was faulted
	cw := httptest.NewRecorder()
	e.ServeHTTP(cw, httptest.NewRequest("GET", "/_emulator/requests", nil))
	if cw.Code != 200 {
		t.Fatalf("control request was faulted: %d", cw.Code)
	}
	var codes []int
	for range 4 {
		codes = append(codes, do(t, e, call{method: "GET", path: userPath(summit, 1001), token: tok}).Code)
	}
	if !slices.Equal(codes, []int{502, 504, 500, 200}) {
		t.Fatalf("codes %v", codes)
	}
	// Reset clears a pending script.
	e.Script(FaultStatus(500, "", "", nil))
	e.Reset()
	if code := do(t, e, call{method: "GET", path: userPath(summit, 1001), token: mustToken(t, e, adminClient)}).Code; code != 200 {
		t.Fatalf("after Reset: %d", code)
	}
}

func TestDropInProcessAborts(t *testing.T) {
	e := newEmu(t)
	e.Script(FaultDropBeforeBody())
	defer func() {
		if r := recover(); r != http.ErrAbortHandler {
			t.Fatalf("recovered %v, want http.ErrAbortHandler", r)
		}
	}()
	do(t, e, call{method: "GET", path: userPath(summit, 1001)})
}

func TestProbabilisticFaults(t *testing.T) {
	tests := []struct {
		name   string
		faults Faults
		check  func(t *testing.T, r liveResp)
	}{
		{"error rate 1, random status", Faults{ErrorRate: 1}, func(t *testing.T, r liveResp) {
			if !slices.Contains([]int{500, 502, 503, 504}, r.status) {
				t.Errorf("status %d", r.status)
			}
			if r.status == 503 && r.header.Get("Retry-After") == "" {
				t.Error("503 without Retry-After")
			}
		}},
		{"error rate 1, fixed status", Faults{ErrorRate: 1, ErrorStatus: 502}, func(t *testing.T, r liveResp) {
			if r.status != 502 || !strings.Contains(string(r.body), "<html>") {
				t.Errorf("status %d body %q", r.status, r.body)
			}
		}},
		{"drop rate 1", Faults{DropRate: 1}, func(t *testing.T, r liveResp) {
			if r.err == nil {
				t.Errorf("no error, status %d", r.status)
			}
		}},
		{"malformed rate 1", Faults{MalformedRate: 1}, func(t *testing.T, r liveResp) {
			if r.status != 200 || json.Valid(r.body) {
				t.Errorf("status %d body %q", r.status, r.body)
			}
		}},
		{"latency", Faults{Latency: 20 * time.Millisecond}, func(t *testing.T, r liveResp) {
			if r.status != 200 {
				t.Errorf("status %d", r.status)
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := NewServer(t, WithFaults(tc.faults), WithRandSeed(1), WithHourlyLimit(0), WithSpikeLimit(0))
			tok := mustToken(t, s.Emulator, adminClient)
			for range 8 {
				start := time.Now()
				tc.check(t, livePatch(t, s, tok, nil))
				if time.Since(start) < tc.faults.Latency {
					t.Errorf("answered before the latency")
				}
			}
			s.SetFaults(Faults{})
			if r := livePatch(t, s, tok, nil); r.status != 200 {
				t.Errorf("after SetFaults(zero): %d %v", r.status, r.err)
			}
		})
	}
}

// TestFaultsDeterministic: the same rand seed gives the same fault sequence.
func TestFaultsDeterministic(t *testing.T) {
	seq := func() []int {
		e := newEmu(t, WithFaults(Faults{ErrorRate: 0.5}), WithRandSeed(42), WithHourlyLimit(0), WithSpikeLimit(0))
		tok := mustToken(t, e, adminClient)
		var codes []int
		for range 40 {
			codes = append(codes, do(t, e, call{method: "GET", path: userPath(summit, 1001), token: tok}).Code)
		}
		return codes
	}
	a, b := seq(), seq()
	if !slices.Equal(a, b) {
		t.Fatalf("sequences differ:\n%v\n%v", a, b)
	}
	if !slices.Contains(a, 200) || slices.Index(a, 200) == -1 || !slices.ContainsFunc(a, func(c int) bool { return c >= 500 }) {
		t.Fatalf("0.5 error rate gave %v", a)
	}
}

func TestFaultOptionsValidated(t *testing.T) {
	for _, f := range []Faults{{ErrorRate: 2}, {DropRate: -1}, {MalformedRate: 1.5}, {Latency: -1}, {ErrorStatus: 1000}} {
		if _, err := New(WithFaults(f)); err == nil {
			t.Errorf("WithFaults(%+v) accepted", f)
		}
	}
}

func TestSetFaultsClamps(t *testing.T) {
	e := newEmu(t, WithRandSeed(3))
	e.SetFaults(Faults{ErrorRate: 7, ErrorStatus: 42, Latency: -time.Second})
	w := do(t, e, call{method: "GET", path: userPath(summit, 1001)})
	if !slices.Contains([]int{500, 502, 503, 504}, w.Code) {
		t.Fatalf("status %d", w.Code)
	}
	e.Script(FaultStatus(42, "", "x", nil))
	if w := do(t, e, call{method: "GET", path: userPath(summit, 1001)}); w.Code != 500 {
		t.Fatalf("invalid scripted status answered %d", w.Code)
	}
}

// TestApplyThenStatusFaults: the update is applied, yet the client hears a
// 5xx, the case a client must treat as outcome-unknown.
func TestApplyThenStatusFaults(t *testing.T) {
	for _, status := range []int{500, 502, 504, 520} {
		t.Run(strconv.Itoa(status), func(t *testing.T) {
			s := NewServer(t)
			tok := mustToken(t, s.Emulator, adminClient)
			s.Script(FaultApplyThenStatus(status))
			got := livePatch(t, s, tok, map[string]any{"job_title": "Applied anyway"})
			if got.err != nil || got.status != status {
				t.Fatalf("got %d %v, want %d", got.status, got.err, status)
			}
			if jt := jobTitle(t, s.Emulator); jt != "Applied anyway" {
				t.Fatalf("job_title %q: the update was not applied", jt)
			}
		})
	}
}

// TestStallAppliesAfterTheClientLeft: a stalled request is applied after
// its client gave up, and WaitStalls waits for it.
func TestStallAppliesAfterTheClientLeft(t *testing.T) {
	s := NewServer(t)
	tok := mustToken(t, s.Emulator, adminClient)
	s.Script(FaultStall(300 * time.Millisecond))
	req, err := http.NewRequest(http.MethodPatch, s.URL+userPath(summit, 1001), bytes.NewReader(patchBody(withRequired(map[string]any{"job_title": "Late"}))))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("Procore-Company-Id", "8089")
	req.Header.Set("Content-Type", "application/json")
	c := liveClient()
	c.Timeout = 50 * time.Millisecond
	if resp, err := c.Do(req); err == nil {
		resp.Body.Close()
		t.Fatalf("answered %d before the stall ended", resp.StatusCode)
	}
	s.WaitStalls()
	if jt := jobTitle(t, s.Emulator); jt != "Late" {
		t.Fatalf("job_title %q after the stall, want the late write", jt)
	}
}
