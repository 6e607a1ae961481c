package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/fieldmaskpb"

	directoryv1 "github.com/procore-directory/procore-directory/gen/procore/directory/v1"
	"github.com/procore-directory/procore-directory/service"
	"github.com/procore-directory/procore-directory/service/apierr"
	"github.com/procore-directory/procore-directory/upstream/procoretest"
)

// told is what a caller was told about its update, by what it may conclude.
type told int

const (
	toldApplied    told = iota // OK
	toldNotApplied             // a definite failure: nothing changed
	toldUnknown                // UPSTREAM_OUTCOME_UNKNOWN, or the deadline
)

// verdict classifies a gRPC code and ErrorInfo reason.
func verdict(code codes.Code, reason string) told {
	switch {
	case code == codes.OK:
		return toldApplied
	case reason == apierr.ReasonUpstreamOutcomeUnknown, code == codes.DeadlineExceeded, reason == apierr.ReasonDeadlineExceeded:
		return toldUnknown
	}
	return toldNotApplied
}

// transport is one way in: gRPC, or one of the REST PATCH routes. It sends
// job_title with a deadline and returns the code and reason.
type transport struct {
	name string
	call func(t *testing.T, s *stack, title string, timeout time.Duration) (codes.Code, string)
}

var transports = []transport{
	{"grpc", func(t *testing.T, s *stack, title string, timeout time.Duration) (codes.Code, string) {
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		defer cancel()
		_, err := s.client.UpdateCompanyUser(ctx, &directoryv1.UpdateCompanyUserRequest{CompanyId: 8089, Id: 1001,
			User: &directoryv1.CompanyUser{JobTitle: proto.String(title)}, UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"job_title"}}})
		st := status.Convert(err)
		return st.Code(), reasonOf(st)
	}},
	{"rest-v1", func(t *testing.T, s *stack, title string, timeout time.Duration) (codes.Code, string) {
		return restCall(t, s, "/v1/companies/8089/users/1001", fmt.Sprintf(`{"job_title":%q}`, title), timeout)
	}},
	{"rest-procore", func(t *testing.T, s *stack, title string, timeout time.Duration) (codes.Code, string) {
		return restCall(t, s, "/rest/v1.3/companies/8089/users/1001", fmt.Sprintf(`{"user":{"job_title":%q}}`, title), timeout)
	}},
}

func reasonOf(st *status.Status) string {
	for _, d := range st.Details() {
		if info, ok := d.(*errdetails.ErrorInfo); ok {
			return info.GetReason()
		}
	}
	return ""
}

// restCall PATCHes path with a grpc-timeout (grpc-gateway's deadline
// header) and reads the google.rpc.Status of an error answer (on the
// Procore-compatible route, its status and reason header).
func restCall(t *testing.T, s *stack, path, body string, timeout time.Duration) (codes.Code, string) {
	t.Helper()
	code, hdr, out := s.do(t, http.MethodPatch, path, "application/json", body, "Grpc-Timeout", fmt.Sprintf("%dm", timeout.Milliseconds()))
	if code == http.StatusOK {
		return codes.OK, ""
	}
	if procoreRoute.MatchString(path) { // Procore's error shapes: the reason is a header
		return procoreCode(code), readProcoreError(t, hdr, out).reason
	}
	raw, _ := json.Marshal(out)
	var st struct {
		Code    codes.Code `json:"code"`
		Details []struct {
			Type   string `json:"@type"`
			Reason string `json:"reason"`
		} `json:"details"`
	}
	if err := json.Unmarshal(raw, &st); err != nil {
		t.Fatalf("HTTP %d: not a google.rpc.Status: %s", code, raw)
	}
	for _, d := range st.Details {
		if strings.HasSuffix(d.Type, "ErrorInfo") {
			return st.Code, d.Reason
		}
	}
	return st.Code, ""
}

// TestFaultMatrix is a property over every emulator fault and every way
// in: what the caller is told agrees with the emulator's final state and
// request log. OK means applied; a definite failure means not applied;
// an unknown outcome may be either; and no PATCH is ever sent again unless
// Procore refused the one before it (429, 503) without processing it.
func TestFaultMatrix(t *testing.T) {
	faults := []struct {
		name    string
		faults  []procoretest.Fault
		timeout time.Duration
	}{
		{"none", nil, 0},
		{"drop before send", []procoretest.Fault{procoretest.FaultDropBeforeBody()}, 0},
		{"drop after apply", []procoretest.Fault{procoretest.FaultDropAfterApply()}, 0},
		{"apply then 500", []procoretest.Fault{procoretest.FaultApplyThenStatus(500)}, 0},
		{"apply then 502", []procoretest.Fault{procoretest.FaultApplyThenStatus(502)}, 0},
		{"500 not applied", []procoretest.Fault{procoretest.FaultStatus(500, "", "", nil)}, 0},
		{"520 not applied", []procoretest.Fault{procoretest.FaultStatus(520, "", "", nil)}, 0},
		{"504 not applied", []procoretest.Fault{procoretest.FaultStatus(504, "text/html", "", nil)}, 0},
		{"malformed 200", []procoretest.Fault{procoretest.FaultMalformed()}, 0},
		{"stall past the deadline", []procoretest.Fault{procoretest.FaultStall(700 * time.Millisecond)}, 300 * time.Millisecond},
		{"503 then retry", []procoretest.Fault{procoretest.FaultUnavailableThenRetry()}, 0},
		{"422", []procoretest.Fault{procoretest.FaultStatus(422, "application/json", `{"errors":{"job_title":["is invalid"]}}`, nil)}, 0},
		{"apply then 502, read-back fails", []procoretest.Fault{procoretest.FaultApplyThenStatus(502), procoretest.FaultStatus(404, "application/json", `{"errors":"Not Found"}`, nil)}, 0},
	}
	for _, tr := range transports {
		for _, f := range faults {
			t.Run(tr.name+"/"+f.name, func(t *testing.T) {
				t.Parallel()
				s := startStack(t, withoutRateLimits(), withRequired(service.RequiredFieldsMaskedOnly), withEmulator(procoretest.WithPartialBodies(true)))
				before := storedJobTitle(t, s)
				title := "Title " + tr.name + " " + f.name
				s.emu.Script(f.faults...)
				timeout := f.timeout
				if timeout == 0 {
					timeout = 10 * time.Second
				}
				code, reason := tr.call(t, s, title, timeout)
				s.emu.WaitStalls()
				after := storedJobTitle(t, s)
				switch verdict(code, reason) {
				case toldApplied:
					if after != title {
						t.Errorf("told OK, but the emulator has %q", after)
					}
				case toldNotApplied:
					if after != before {
						t.Errorf("told %v %s (not applied), but the update was applied", code, reason)
					}
				case toldUnknown:
					if after != before && after != title {
						t.Errorf("told unknown; stored %q is neither", after)
					}
				}
				var patches []procoretest.Request
				for _, r := range s.emu.Requests() {
					if r.Method == http.MethodPatch {
						patches = append(patches, r)
					}
				}
				for i, p := range patches[:max(len(patches)-1, 0)] {
					// Proven refused: a 503 or 429, or a connection the
					// emulator dropped before it read the body (nothing it
					// could apply; the client sees the drop while still
					// writing, or not, by timing, and may then resend).
					unread := p.Status == 0 && len(p.Body) == 0 && p.RawBody == "" && p.Form == nil
					if p.Status != http.StatusServiceUnavailable && p.Status != http.StatusTooManyRequests && !unread {
						t.Errorf("PATCH %d (status %d) was sent again though not proven refused", i+1, p.Status)
					}
				}
				t.Logf("told %v %s; %d PATCHes", code, reason, len(patches))
			})
		}
	}
}

func storedJobTitle(t *testing.T, s *stack) string {
	t.Helper()
	raw, ok := s.emu.User(8089, 1001)
	if !ok {
		t.Fatal("user 1001 gone")
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	v, _ := m["job_title"].(string)
	return v
}
