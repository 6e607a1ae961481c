package server_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/fieldmaskpb"

	directoryv1 "github.com/procore-directory/procore-directory/gen/procore/directory/v1"
	"github.com/procore-directory/procore-directory/service"
	"github.com/procore-directory/procore-directory/service/apierr"
	"github.com/procore-directory/procore-directory/service/auth"
	"github.com/procore-directory/procore-directory/service/server"
	"github.com/procore-directory/procore-directory/upstream/procoretest"
)

// procoreKind is one plausible Procore: a combination of the emulator's
// contract switches (upstream/procoretest/CONTRACT.md, "Emulator switches").
//
// Pruned: --response-shape changes only the bodies of 200s and --error-body
// only those of 400/401/403 (the emulator renders and flattens after
// deciding), so no scenario's outcome can depend on the two together; they
// are paired (published with flat, extended with rails), which still runs
// each value of each under every other switch, caller, mode and route.
type procoreKind struct {
	included   bool // --admin-fields=included (the service is told so too)
	partial    bool // --partial-bodies
	nullClears bool // --null-clears
	published  bool // --response-shape=published with --error-body=flat; else extended with rails
}

func (k procoreKind) String() string {
	return fmt.Sprintf("included=%t,partial=%t,nullclears=%t,published+flat=%t", k.included, k.partial, k.nullClears, k.published)
}

func (k procoreKind) options() []procoretest.Option {
	opts := []procoretest.Option{
		procoretest.WithHourlyLimit(0), procoretest.WithSpikeLimit(0),
		procoretest.WithPartialBodies(k.partial), procoretest.WithNullClears(k.nullClears),
		procoretest.WithAdminFields(procoretest.AdminFieldsChanged),
		procoretest.WithResponseShape(procoretest.ResponseShapeExtended), procoretest.WithErrorBody(procoretest.ErrorBodyRails),
	}
	if k.included {
		opts = append(opts, procoretest.WithAdminFields(procoretest.AdminFieldsIncluded))
	}
	if k.published {
		opts = append(opts, procoretest.WithResponseShape(procoretest.ResponseShapePublished), procoretest.WithErrorBody(procoretest.ErrorBodyFlat))
	}
	return opts
}

// fixedGrant authorizes every call of one caller: the policy's decision
// for a caller listed with or without directory_admin.
type fixedGrant struct{ admin bool }

func (g fixedGrant) Authorize(context.Context, int64) (auth.Grant, error) {
	return auth.Grant{DirectoryAdmin: g.admin}, nil
}

// scenario is one update a caller tries, on a user of its own.
type scenario int

const (
	plainUpdate scenario = iota // job_title only: no admin-only field masked
	adminChange                 // add_to_new_projects, an admin-only field
	clearText                   // clear notes (a string) and is_employee (a boolean)
	clearInt                    // clear work_classification_id (an integer)
)

func (s scenario) String() string {
	return [...]string{"plain", "admin-field", "clear-text", "clear-int"}[s]
}

func (s scenario) userID() int64 { return [...]int64{1001, 1002, 1003, 1004}[s] }

// outcome is what a caller gets: a code, the ErrorInfo reason, and the
// fields the error names (BadRequest violations and ErrorInfo "field"), or
// on success what the test checks of the user.
type outcome struct {
	code    codes.Code
	reason  string
	message string
	fields  []string
	// on success: the values the scenario changed, and whether contact_id
	// and permission_template came back.
	jobTitle, notes string
	isEmployee      *bool
	workClassSet    bool
	addToNew        *bool
	hasContactID    bool
}

// expected states, independently of the implementation, what a caller
// gets from a Procore of kind k, in the given auth mode, for scenario sc:
// the README's "what a caller gets" table.
func expected(k procoreKind, passThrough, admin bool, sc scenario) (code codes.Code, reason, field string) {
	// fill sends email_address unchanged, except under included in
	// pass-through mode (the token's rights are unknown).
	emailSent := !(passThrough && k.included)
	switch {
	case !passThrough && !admin && sc == adminChange:
		return codes.PermissionDenied, apierr.ReasonAdminFieldNotAllowed, "user.add_to_new_projects"
	case !k.partial && !emailSent:
		return codes.InvalidArgument, apierr.ReasonUpstreamBadRequest, "user.email_address"
	case passThrough && !admin && sc == adminChange:
		return codes.PermissionDenied, apierr.ReasonUpstreamPermissionDenied, "user.add_to_new_projects"
	case sc == clearInt && !k.nullClears:
		return codes.InvalidArgument, apierr.ReasonUpstreamValidation, "user.work_classification_id"
	}
	return codes.OK, "", ""
}

// route sends one scenario's update through one face of the service.
type route struct {
	name string
	do   func(t *testing.T, s *stack, token string, sc scenario) outcome
}

var matrixRoutes = []route{
	{"grpc", matrixGRPCUpdate},
	{"rest-v1", func(t *testing.T, s *stack, token string, sc scenario) outcome {
		return matrixRESTUpdate(t, s, token, "/v1/companies/8089/users/", scenarioJSON(sc))
	}},
	{"rest-procore", func(t *testing.T, s *stack, token string, sc scenario) outcome {
		return matrixRESTUpdate(t, s, token, "/rest/v1.3/companies/8089/users/", `{"user":`+scenarioJSON(sc)+`}`)
	}},
}

// scenarioJSON is the scenario's user as both REST routes take it: the
// mask is the JSON keys, null clears.
func scenarioJSON(sc scenario) string {
	return [...]string{
		`{"job_title":"Matrix Lead"}`,
		`{"add_to_new_projects":true}`,
		`{"notes":null,"is_employee":null}`,
		`{"work_classification_id":null}`,
	}[sc]
}

func matrixGRPCUpdate(t *testing.T, s *stack, token string, sc scenario) outcome {
	t.Helper()
	req := &directoryv1.UpdateCompanyUserRequest{CompanyId: 8089, Id: sc.userID(), User: &directoryv1.CompanyUser{}}
	switch sc {
	case plainUpdate:
		req.User.JobTitle = ptr("Matrix Lead")
		req.UpdateMask = &fieldmaskpb.FieldMask{Paths: []string{"job_title"}}
	case adminChange:
		req.User.AddToNewProjects = ptr(true)
		req.UpdateMask = &fieldmaskpb.FieldMask{Paths: []string{"add_to_new_projects"}}
	case clearText:
		req.UpdateMask = &fieldmaskpb.FieldMask{Paths: []string{"notes", "is_employee"}}
	case clearInt:
		req.UpdateMask = &fieldmaskpb.FieldMask{Paths: []string{"work_classification_id"}}
	}
	ctx := context.Background()
	if token != "" {
		ctx = withToken(ctx, token)
	}
	u, err := s.client.UpdateCompanyUser(ctx, req)
	if err != nil {
		st := status.Convert(err)
		out := outcome{code: st.Code(), message: st.Message()}
		for _, d := range st.Details() {
			switch d := d.(type) {
			case *errdetails.ErrorInfo:
				out.reason = d.GetReason()
				if f := d.GetMetadata()["field"]; f != "" {
					out.fields = append(out.fields, f)
				}
			case *errdetails.BadRequest:
				for _, v := range d.GetFieldViolations() {
					out.fields = append(out.fields, v.GetField())
				}
			}
		}
		return out
	}
	return outcome{code: codes.OK, jobTitle: u.GetJobTitle(), notes: u.GetNotes(), isEmployee: u.IsEmployee,
		workClassSet: u.WorkClassificationId != nil, addToNew: u.AddToNewProjects, hasContactID: u.ContactId != nil}
}

func matrixRESTUpdate(t *testing.T, s *stack, token, path, body string) outcome {
	t.Helper()
	sc := scenarioFromJSON(body)
	var header []string
	if token != "" {
		header = []string{"Authorization", "Bearer " + token}
	}
	code, hdr, m := s.do(t, http.MethodPatch, fmt.Sprintf("%s%d", path, sc.userID()), "application/json", body, header...)
	if code != http.StatusOK && procoreRoute.MatchString(path+"1") {
		pe := readProcoreError(t, hdr, m)
		return outcome{code: procoreCode(code), reason: pe.reason, message: pe.message, fields: pe.fields}
	}
	if code != http.StatusOK {
		out := outcome{message: fmt.Sprint(m["message"])}
		if n, ok := m["code"].(interface{ Int64() (int64, error) }); ok {
			c, _ := n.Int64()
			out.code = codes.Code(c)
		}
		d := statusDetails(t, m)
		if info := d["ErrorInfo"]; info != nil {
			out.reason, _ = info["reason"].(string)
			if meta, ok := info["metadata"].(map[string]any); ok {
				if f, ok := meta["field"].(string); ok {
					out.fields = append(out.fields, f)
				}
			}
		}
		if br := d["BadRequest"]; br != nil {
			vs, _ := br["field_violations"].([]any)
			for _, v := range vs {
				out.fields = append(out.fields, fmt.Sprint(v.(map[string]any)["field"]))
			}
		}
		return out
	}
	out := outcome{code: codes.OK}
	out.jobTitle, _ = m["job_title"].(string)
	out.notes, _ = m["notes"].(string)
	if b, ok := m["is_employee"].(bool); ok {
		out.isEmployee = &b
	}
	if b, ok := m["add_to_new_projects"].(bool); ok {
		out.addToNew = &b
	}
	out.workClassSet = m["work_classification_id"] != nil
	out.hasContactID = m["contact_id"] != nil
	return out
}

// scenarioFromJSON recovers the scenario from its body, so both REST
// routes share matrixRESTUpdate.
func scenarioFromJSON(body string) scenario {
	for sc := plainUpdate; sc <= clearInt; sc++ {
		if strings.Contains(body, scenarioJSON(sc)) {
			return sc
		}
	}
	panic("unknown scenario body " + body)
}

// TestEveryPlausibleProcore runs each scenario against every kind of
// Procore, over gRPC and both REST routes, for an admin and a non-admin
// caller, in pass-through and client-credentials modes, and checks what
// the caller gets against expected. The service runs --required-fields=fill
// (set explicitly: the default is auto, whose fallback to fill is tested
// in required_fields_auto_test.go) with --admin-fields set as the Procore reads it.
func TestEveryPlausibleProcore(t *testing.T) {
	t.Parallel()
	var kinds []procoreKind
	for i := range 16 {
		kinds = append(kinds, procoreKind{included: i&1 != 0, partial: i&2 != 0, nullClears: i&4 != 0, published: i&8 != 0})
	}
	for _, k := range kinds {
		for _, passThrough := range []bool{true, false} {
			for _, admin := range []bool{true, false} {
				for _, rt := range matrixRoutes {
					mode := map[bool]string{true: "pass-through", false: "client-credentials"}[passThrough]
					caller := map[bool]string{true: "admin", false: "non-admin"}[admin]
					t.Run(strings.Join([]string{k.String(), mode, caller, rt.name}, "/"), func(t *testing.T) {
						t.Parallel()
						runMatrixCase(t, k, passThrough, admin, rt)
					})
				}
			}
		}
	}
}

func runMatrixCase(t *testing.T, k procoreKind, passThrough, admin bool, rt route) {
	opts := []stackOption{withEmulator(k.options()...), withRequired(service.RequiredFieldsFill)}
	if k.included {
		opts = append(opts, withConfig(func(cfg *server.Config) { cfg.AdminFields = service.AdminFieldsIncluded }))
	}
	if passThrough {
		opts = append(opts, withPassThrough())
	} else {
		opts = append(opts, withConfig(func(cfg *server.Config) { cfg.Authorizer = fixedGrant{admin: admin} }))
	}
	s := startStack(t, opts...)
	var token string
	if passThrough {
		client, ok := s.emu.AdminClient()
		if !admin {
			client, ok = s.emu.NonAdminClient()
		}
		if !ok {
			t.Fatal("the seed lacks a client")
		}
		var err error
		if token, err = s.emu.IssueToken(client.ClientID); err != nil {
			t.Fatal(err)
		}
	}

	for sc := plainUpdate; sc <= clearInt; sc++ {
		got := rt.do(t, s, token, sc)
		code, reason, field := expected(k, passThrough, admin, sc)
		if got.code != code || got.reason != reason {
			t.Errorf("%s: got %v %s (%q), want %v %s", sc, got.code, got.reason, got.message, code, reason)
			continue
		}
		if code != codes.OK {
			// A Rails 403 names the field in its text only; the flat body
			// names it in "fields", which ErrorInfo's "field" carries.
			railsText := reason == apierr.ReasonUpstreamPermissionDenied && !k.published
			// The Procore route's own 403 is Procore's {"errors": "<text>"}.
			railsText = railsText || (rt.name == "rest-procore" && code == codes.PermissionDenied)
			if field != "" && !railsText && !contains(got.fields, field) {
				t.Errorf("%s: error names %v, want %s (%q)", sc, got.fields, field, got.message)
			}
			// The message says which field and why, whichever body Procore used.
			if name := strings.TrimPrefix(field, "user."); !strings.Contains(got.message, name) {
				t.Errorf("%s: message %q does not name %s", sc, got.message, name)
			}
			// Procore's "can't be blank" for a field the service withheld
			// comes with the reason it was withheld.
			// (The Procore route answers Procore's own body, as Procore did.)
			if field == "user.email_address" && rt.name != "rest-procore" && !strings.Contains(got.message, "email_address was not sent because") {
				t.Errorf("%s: message %q does not say why email_address was not sent", sc, got.message)
			}
			continue
		}
		if got.hasContactID != k.published {
			t.Errorf("%s: contact_id returned %t, want %t (published shape)", sc, got.hasContactID, k.published)
		}
		switch sc {
		case plainUpdate:
			if got.jobTitle != "Matrix Lead" {
				t.Errorf("plain: job_title %q", got.jobTitle)
			}
		case adminChange:
			if got.addToNew == nil || !*got.addToNew {
				t.Errorf("admin field: add_to_new_projects %v", got.addToNew)
			}
		case clearText:
			if got.notes != "" || got.isEmployee == nil || *got.isEmployee {
				t.Errorf("clear: notes %q is_employee %v, want \"\" and false", got.notes, got.isEmployee)
			}
		case clearInt:
			if got.workClassSet {
				t.Error("clear: work_classification_id still set")
			}
		}
	}
	// A caller who did not mask email_address never has it sent where
	// Procore refuses its mere inclusion to the token it sees.
	for _, body := range s.patches(t) {
		if passThrough && k.included && strings.Contains(body, "email_address") {
			t.Errorf("email_address sent under included in pass-through mode: %s", body)
		}
		if strings.Contains(body, `"is_employee":null`) || strings.Contains(body, `"notes":null`) {
			t.Errorf("a boolean or free-text clear was sent as null: %s", body)
		}
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
