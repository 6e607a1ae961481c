package upstream_test

import (
	"context"
	"errors"
	"reflect"
	"testing"

	"github.com/procore-directory/procore-directory/upstream"
	"github.com/procore-directory/procore-directory/upstream/procoretest"
)

// TestFlatErrorBodyMapsLikeRails sends the same refused requests to an
// emulator answering with Rails bodies and to one answering with the
// published flat body: the client must report the same status, message and
// field errors, so nothing above it can tell the two Procores apart. The
// one difference allowed is that a flat 403 names its field, which the Rails
// text does not.
func TestFlatErrorBodyMapsLikeRails(t *testing.T) {
	nonAdmin := func(t *testing.T, e *env) context.Context {
		tok, err := e.emu.IssueToken(nonAdminClient(t, e.emu).ClientID)
		if err != nil {
			t.Fatal(err)
		}
		return upstream.ContextWithToken(e.ctx, tok)
	}
	tests := []struct {
		name       string
		emuOpts    []procoretest.Option
		caller     func(t *testing.T, e *env) context.Context
		req        func() upstream.UpdateRequest
		status     int
		flatFields []string // of the flat answer, when they differ from Rails'
	}{
		{"400 both required fields missing", nil, nil, func() upstream.UpdateRequest {
			req := upstream.UpdateRequest{CompanyID: company, UserID: userID}
			req.Patch.SetString("job_title", "x")
			return req
		}, 400, nil},
		{"400 email_address missing", nil, nil, func() upstream.UpdateRequest {
			req := upstream.UpdateRequest{CompanyID: company, UserID: userID}
			req.Patch.SetString("last_name", "Okafor")
			return req
		}, 400, nil},
		{"403 admin-only field changed", nil, nonAdmin, func() upstream.UpdateRequest {
			req := basePatch()
			req.Patch.SetString("email_address", "someone.else@summitridge.example")
			return req
		}, 403, []string{"email_address"}},
		{"403 admin-only field included", []procoretest.Option{procoretest.WithAdminFields(procoretest.AdminFieldsIncluded)}, nonAdmin, basePatch, 403, []string{"email_address"}},
		{"403 add_to_new_projects", nil, nonAdmin, func() upstream.UpdateRequest {
			req := basePatch()
			req.Patch.SetBool("add_to_new_projects", true)
			return req
		}, 403, []string{"add_to_new_projects"}},
		{"401 invalid token", nil, func(t *testing.T, e *env) context.Context {
			return upstream.ContextWithToken(e.ctx, "not-a-token")
		}, basePatch, 401, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got [2]*upstream.Error
			for i, body := range []procoretest.ErrorBody{procoretest.ErrorBodyRails, procoretest.ErrorBodyFlat} {
				e := newEnv(t, append([]procoretest.Option{procoretest.WithErrorBody(body)}, tt.emuOpts...))
				ctx, client := e.ctx, e.client
				if tt.caller != nil {
					ctx = tt.caller(t, e)
					var err error
					if client, err = upstream.New(e.emu.URL); err != nil { // pass-through
						t.Fatal(err)
					}
				}
				_, err := client.UpdateCompanyUser(ctx, tt.req())
				if !errors.As(err, &got[i]) || got[i].StatusCode != tt.status || got[i].Kind != upstream.KindStatus {
					t.Fatalf("%s body: error %#v, want status %d", body, err, tt.status)
				}
			}
			rails, flat := got[0], got[1]
			if tt.status != 401 && flat.Message != rails.Message {
				t.Errorf("message: flat %q, rails %q", flat.Message, rails.Message)
			}
			if tt.status == 401 && (flat.Message == "" || len(flat.FieldErrors) > 0) {
				t.Errorf("flat 401: %q %+v", flat.Message, flat.FieldErrors)
			}
			want := rails.FieldErrors
			if tt.flatFields != nil {
				if len(rails.FieldErrors) != 0 {
					t.Fatalf("rails field errors %+v", rails.FieldErrors)
				}
				want = nil
				for _, f := range tt.flatFields {
					want = append(want, upstream.FieldError{Field: f, Messages: []string{rails.Message}})
				}
			}
			if !reflect.DeepEqual(flat.FieldErrors, want) {
				t.Errorf("field errors: flat %+v, want %+v", flat.FieldErrors, want)
			}
		})
	}
}
