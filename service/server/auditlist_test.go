package server_test

import (
	"context"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/fieldmaskpb"

	directoryv1 "github.com/procore-directory/procore-directory/gen/procore/directory/v1"
	"github.com/procore-directory/procore-directory/service/apierr"
	"github.com/procore-directory/procore-directory/service/audit"
	"github.com/procore-directory/procore-directory/service/auth"
	"github.com/procore-directory/procore-directory/service/server"
	"github.com/procore-directory/procore-directory/service/servicetest"
)

// withFileAudit writes the stack's trail to a file of the test's, which
// ListAuditEvents reads.
func withFileAudit(tb testing.TB) stackOption {
	tb.Helper()
	path := filepath.Join(tb.TempDir(), "audit.jsonl")
	f, err := audit.OpenFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = f.Close() })
	return withConfig(func(c *server.Config) {
		c.Audit = server.AuditConfig{Sinks: []audit.Sink{f}, Required: true, Reader: audit.NewFileReader(path)}
	})
}

// TestListAuditEvents: updates through the stack are listed oldest first,
// each outcome after its write-ahead record (the trail is required),
// filtered by user_id, caller, event and time, in pages whose token is bound to
// the filter; a bad filter or token is INVALID_ARGUMENT naming it; in
// pass-through mode the method is off.
func TestListAuditEvents(t *testing.T) {
	s := startStack(t, withoutRateLimits(), withFileAudit(t))
	ctx := context.Background()
	start := time.Now().UTC()
	for i, id := range []int64{1001, 1002, 1001} {
		_, err := s.client.UpdateCompanyUser(ctx, &directoryv1.UpdateCompanyUserRequest{CompanyId: 8089, Id: id,
			User: &directoryv1.CompanyUser{JobTitle: proto.String("Title " + string(rune('A'+i)))}, UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"job_title"}}})
		if err != nil {
			t.Fatal(err)
		}
	}
	list := func(filter string, size int32, token string) (*directoryv1.ListAuditEventsResponse, error) {
		return s.client.ListAuditEvents(ctx, &directoryv1.ListAuditEventsRequest{CompanyId: 8089, Filter: filter, PageSize: size, PageToken: token})
	}
	all, err := list("", 0, "")
	if err != nil {
		t.Fatal(err)
	}
	if all.GetNextPageToken() != "" {
		t.Fatalf("token %q on the only page", all.GetNextPageToken())
	}
	// Per call: a write-ahead record before each PATCH (auto mode sends
	// the first user's twice: Procore refuses its first body), then the
	// one outcome.
	calls := map[string][]string{}
	var order []string
	for _, e := range all.GetAuditEvents() {
		if _, ok := calls[e.GetCallId()]; !ok {
			order = append(order, e.GetCallId())
		}
		calls[e.GetCallId()] = append(calls[e.GetCallId()], e.GetEvent())
	}
	wantCalls := [][]string{{"sending", "sending", "update"}, {"sending", "update"}, {"sending", "update"}}
	if len(order) != len(wantCalls) {
		t.Fatalf("%d calls in the trail, want 3: %v", len(order), all.GetAuditEvents())
	}
	for k, id := range order {
		if !slices.Equal(calls[id], wantCalls[k]) {
			t.Errorf("call %d: events %v, want %v", k, calls[id], wantCalls[k])
		}
	}
	updates, err := list(`event = "update"`, 0, "")
	if err != nil {
		t.Fatal(err)
	}
	if n := len(updates.GetAuditEvents()); n != 3 {
		t.Fatalf("event = \"update\": %d events, want 3", n)
	}
	for _, e := range updates.GetAuditEvents() {
		if e.GetEvent() != audit.KindUpdate || e.GetOutcome() != audit.OutcomeApplied || e.GetUpstreamStatus() != 200 {
			t.Errorf("event %v", e)
		}
	}
	byUser, err := list(`event = "update" AND user_id = 1001 AND time >= "`+start.Format(time.RFC3339Nano)+`"`, 1, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(byUser.GetAuditEvents()) != 1 || byUser.GetNextPageToken() == "" {
		t.Fatalf("page 1: %v", byUser)
	}
	next, err := list(`event = "update" AND user_id = 1001 AND time >= "`+start.Format(time.RFC3339Nano)+`"`, 1, byUser.GetNextPageToken())
	if err != nil {
		t.Fatal(err)
	}
	if len(next.GetAuditEvents()) != 1 || next.GetAuditEvents()[0].GetUserId() != 1001 {
		t.Fatalf("page 2: %v", next)
	}
	if none, err := list(`caller = "nobody"`, 0, ""); err != nil || len(none.GetAuditEvents()) != 0 {
		t.Fatalf("caller filter: %v %v", none, err)
	}
	for _, bad := range []struct{ filter, token, field string }{
		{filter: "email = 1", field: "filter"},
		{filter: `time = "2026-01-01T00:00:00Z"`, field: "filter"},
		{token: byUser.GetNextPageToken(), field: "page_token"}, // another filter's
		{token: "garbage", field: "page_token"},
	} {
		_, err := list(bad.filter, 0, bad.token)
		if status.Code(err) != codes.InvalidArgument || !slices.Contains(servicetest.ViolatedFields(err), bad.field) {
			t.Errorf("filter %q token %q: %v, want INVALID_ARGUMENT on %s", bad.filter, bad.token, err, bad.field)
		}
	}

	pt := startStack(t, withoutRateLimits(), withPassThrough(), withFileAudit(t))
	tok, err := pt.emu.IssueToken("field-app")
	if err != nil {
		t.Fatal(err)
	}
	_, err = pt.client.ListAuditEvents(withToken(ctx, tok), &directoryv1.ListAuditEventsRequest{CompanyId: 8089})
	if status.Code(err) != codes.Unimplemented || reasonOf(status.Convert(err)) != apierr.ReasonAuditListOff {
		t.Fatalf("pass-through: %v, want UNIMPLEMENTED AUDIT_LIST_OFF", err)
	}
}

// grantAll is an Authorizer that grants every company, as an auditor or not.
type grantAll struct{ auditor bool }

func (g grantAll) Authorize(context.Context, int64) (auth.Grant, error) {
	return auth.Grant{DirectoryAdmin: true, Auditor: g.auditor}, nil
}

// TestListAuditEventsOnlyForAuditors: a caller the policy does not mark
// auditor: true is PERMISSION_DENIED, even where it may update.
func TestListAuditEventsOnlyForAuditors(t *testing.T) {
	for _, auditor := range []bool{false, true} {
		s := startStack(t, withoutRateLimits(), withFileAudit(t), withConfig(func(c *server.Config) { c.Authorizer = grantAll{auditor: auditor} }))
		_, err := s.client.ListAuditEvents(context.Background(), &directoryv1.ListAuditEventsRequest{CompanyId: 8089})
		if want := map[bool]codes.Code{false: codes.PermissionDenied, true: codes.OK}[auditor]; status.Code(err) != want {
			t.Errorf("auditor=%v: %v, want %v", auditor, err, want)
		}
	}
}
