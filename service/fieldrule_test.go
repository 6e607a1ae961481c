package service

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	directoryv1 "github.com/procore-directory/procore-directory/gen/procore/directory/v1"
	"github.com/procore-directory/procore-directory/service/servicetest"
	"github.com/procore-directory/procore-directory/upstream"
)

// TestRefusedForMissing: only Procore's refusal of a body for a field it
// left out, which was certainly not applied, makes auto mode send again.
func TestRefusedForMissing(t *testing.T) {
	rule := newFieldRule()
	both := rule.required // last_name and email_address, both left out
	var lastOnly []upstream.Field
	for _, f := range both {
		if f.Name == "last_name" {
			lastOnly = append(lastOnly, f)
		}
	}
	status := func(code int, fields ...string) error {
		e := &upstream.Error{Kind: upstream.KindStatus, StatusCode: code}
		for _, f := range fields {
			e.FieldErrors = append(e.FieldErrors, upstream.FieldError{Field: f, Messages: []string{"can't be blank"}})
		}
		return fmt.Errorf("wrapped: %w", e)
	}
	for _, tc := range []struct {
		name string
		err  error
		left []upstream.Field
		want bool
	}{
		{name: "400 naming last_name", err: status(400, "last_name"), left: both, want: true},
		{name: "422 naming email_address", err: status(422, "email_address"), left: both, want: true},
		{name: "flat body: comma-separated fields", err: status(400, "email_address,last_name"), left: lastOnly, want: true},
		{name: "names a field the body carried", err: status(422, "email_address"), left: lastOnly},
		{name: "400 naming another field", err: status(400, "job_title"), left: both},
		{name: "400 without fields", err: status(400), left: both},
		{name: "403 naming the field", err: status(403, "email_address"), left: both},
		{name: "outcome unknown", err: &upstream.Error{Kind: upstream.KindOutcomeUnknown, StatusCode: 400, FieldErrors: []upstream.FieldError{{Field: "last_name"}}}, left: both},
		{name: "nothing left out", err: status(400, "last_name")},
		{name: "no error", left: both},
		{name: "another error", err: errors.New("last_name"), left: both},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := refusedForMissing(tc.err, tc.left); got != tc.want {
				t.Errorf("refusedForMissing = %v, want %v", got, tc.want)
			}
		})
	}
}

// TestRequiredFieldsModes: how each mode completes a mask without
// last_name/email_address.
func TestRequiredFieldsModes(t *testing.T) {
	tests := []struct {
		mode      RequiredFieldsMode
		wantBody  string
		wantGets  int
		wantError codes.Code
	}{
		{RequiredFieldsFill, `{"user":{"email_address":"maria.okafor@summitridge.example","job_title":"PM","last_name":"Okafor"}}`, 1, codes.OK},
		{RequiredFieldsMaskedOnly, `{"user":{"job_title":"PM"}}`, 0, codes.OK},
		{RequiredFieldsReject, ``, 0, codes.InvalidArgument},
	}
	for _, tt := range tests {
		t.Run(tt.mode.String(), func(t *testing.T) {
			fake := &servicetest.Upstream{Current: servicetest.SeedUser()}
			svc, err := New(fake, WithRequiredFields(tt.mode))
			if err != nil {
				t.Fatal(err)
			}
			_, err = svc.UpdateCompanyUser(context.Background(), &directoryv1.UpdateCompanyUserRequest{
				CompanyId: 8089, Id: 1001, User: &directoryv1.CompanyUser{JobTitle: ptr("PM")},
			})
			if status.Code(err) != tt.wantError {
				t.Fatalf("err %v, want %v", err, tt.wantError)
			}
			gets, updates := fake.Calls()
			if gets != tt.wantGets {
				t.Errorf("%d gets, want %d", gets, tt.wantGets)
			}
			if tt.wantBody == "" {
				if updates != 0 {
					t.Errorf("PATCH sent")
				}
				return
			}
			if got := string(fake.Updates()[0].Patch.AppendJSON(nil)); got != tt.wantBody {
				t.Errorf("body %s\nwant %s", got, tt.wantBody)
			}
		})
	}
}

// TestFillReadFailure: in fill mode a failed read of the current record
// fails the update, and nothing is written; in auto mode, when Procore
// refused the partial body, the refused PATCH is the only one.
func TestFillReadFailure(t *testing.T) {
	for _, tc := range []struct {
		mode        RequiredFieldsMode
		wantUpdates int
	}{
		{mode: RequiredFieldsFill, wantUpdates: 0},
		{mode: RequiredFieldsAuto, wantUpdates: 1},
	} {
		t.Run(tc.mode.String(), func(t *testing.T) {
			fake := &servicetest.Upstream{RefusePartial: true, GetErr: &upstream.Error{Kind: upstream.KindStatus, StatusCode: http.StatusNotFound, Message: "Not Found"}}
			svc, _ := New(fake, WithRequiredFields(tc.mode))
			_, err := svc.UpdateCompanyUser(context.Background(), &directoryv1.UpdateCompanyUserRequest{
				CompanyId: 8089, Id: 9, User: &directoryv1.CompanyUser{JobTitle: ptr("PM")},
			})
			if status.Code(err) != codes.NotFound {
				t.Fatalf("err %v, want NOT_FOUND", err)
			}
			if _, u := fake.Calls(); u != tc.wantUpdates {
				t.Errorf("%d PATCHes after the read failed, want %d", u, tc.wantUpdates)
			}
		})
	}
}
