package service

import (
	"context"
	"strings"
	"testing"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/fieldmaskpb"

	directoryv1 "github.com/procore-directory/procore-directory/gen/procore/directory/v1"
)

const testPolicy = `
callers:
  - identity: spiffe://corp.example/hr-sync
    companies: [8089, 5120]
    directory_admin: true
  - identity: field-app
    companies: [8089]
`

func errorInfo(t *testing.T, err error) *errdetails.ErrorInfo {
	t.Helper()
	for _, d := range status.Convert(err).Details() {
		if info, ok := d.(*errdetails.ErrorInfo); ok {
			return info
		}
	}
	t.Fatalf("no ErrorInfo in %v", err)
	return nil
}

func TestAuthorizeUpdate(t *testing.T) {
	pol, err := ParsePolicy("test.yaml", []byte(testPolicy))
	if err != nil {
		t.Fatal(err)
	}
	const admin, field = "spiffe://corp.example/hr-sync", "field-app"
	update := func(company int64, user *directoryv1.CompanyUser, paths ...string) *directoryv1.UpdateCompanyUserRequest {
		return &directoryv1.UpdateCompanyUserRequest{CompanyId: company, Id: 1001, User: user, UpdateMask: &fieldmaskpb.FieldMask{Paths: paths}}
	}
	tests := []struct {
		name        string
		caller      string // "" : no caller in the context
		required    RequiredFieldsMode
		req         *directoryv1.UpdateCompanyUserRequest
		wantCode    codes.Code
		wantReason  string
		wantField   string
		wantGets    int
		wantUpdates int
	}{
		{name: "admin changes email", caller: admin, req: update(8089, &directoryv1.CompanyUser{EmailAddress: ptr("new@corp.example"), LastName: ptr("Okafor")}, "email_address", "last_name"), wantUpdates: 1},
		{name: "admin changes template in other company", caller: admin, req: update(5120, &directoryv1.CompanyUser{DefaultPermissionTemplateId: ptr(int64(42))}, "default_permission_template_id"), wantGets: 1, wantUpdates: 1},
		{name: "no admin changes job title", caller: field, req: update(8089, &directoryv1.CompanyUser{JobTitle: ptr("Lead")}, "job_title"), wantGets: 1, wantUpdates: 1},
		{name: "no admin changes job title, masked-only", caller: field, required: RequiredFieldsMaskedOnly, req: update(8089, &directoryv1.CompanyUser{JobTitle: ptr("Lead")}, "job_title"), wantUpdates: 1},
		{name: "no admin sends email unchanged", caller: field, required: RequiredFieldsMaskedOnly, req: update(8089, &directoryv1.CompanyUser{EmailAddress: ptr("maria.okafor@summitridge.example"), LastName: ptr("Okafor")}, "email_address", "last_name"), wantGets: 1, wantUpdates: 1},
		{name: "no admin changes email: one GET, no PATCH", caller: field, required: RequiredFieldsMaskedOnly, req: update(8089, &directoryv1.CompanyUser{EmailAddress: ptr("new@corp.example"), LastName: ptr("Okafor")}, "email_address", "last_name"),
			wantCode: codes.PermissionDenied, wantReason: ReasonAdminFieldNotAllowed, wantField: "user.email_address", wantGets: 1},
		{name: "no admin changes email, fill reuses its GET", caller: field, req: update(8089, &directoryv1.CompanyUser{EmailAddress: ptr("new@corp.example")}, "email_address"),
			wantCode: codes.PermissionDenied, wantReason: ReasonAdminFieldNotAllowed, wantField: "user.email_address", wantGets: 1},
		{name: "no admin changes default template", caller: field, req: update(8089, &directoryv1.CompanyUser{DefaultPermissionTemplateId: ptr(int64(41))}, "default_permission_template_id"),
			wantCode: codes.PermissionDenied, wantReason: ReasonAdminFieldNotAllowed, wantField: "user.default_permission_template_id"},
		{name: "no admin changes company template", caller: field, req: update(8089, &directoryv1.CompanyUser{}, "company_permission_template_id"),
			wantCode: codes.PermissionDenied, wantReason: ReasonAdminFieldNotAllowed, wantField: "user.company_permission_template_id"},
		{name: "no admin changes add_to_new_projects (implied mask)", caller: field, req: update(8089, &directoryv1.CompanyUser{AddToNewProjects: ptr(true), JobTitle: ptr("x")}),
			wantCode: codes.PermissionDenied, wantReason: ReasonAdminFieldNotAllowed, wantField: "user.add_to_new_projects"},
		{name: "no admin, full replacement", caller: field, req: update(8089, &directoryv1.CompanyUser{LastName: ptr("O"), EmailAddress: ptr("maria.okafor@summitridge.example")}, "*"),
			wantCode: codes.PermissionDenied, wantReason: ReasonAdminFieldNotAllowed, wantField: "user.default_permission_template_id"},
		{name: "company not in policy", caller: field, req: update(5120, &directoryv1.CompanyUser{JobTitle: ptr("Lead")}, "job_title"),
			wantCode: codes.PermissionDenied, wantReason: ReasonCompanyNotAllowed},
		{name: "unknown identity", caller: "spiffe://corp.example/stranger", req: update(8089, &directoryv1.CompanyUser{JobTitle: ptr("Lead")}, "job_title"),
			wantCode: codes.PermissionDenied, wantReason: ReasonCallerNotAllowed},
		{name: "no caller", req: update(8089, &directoryv1.CompanyUser{JobTitle: ptr("Lead")}, "job_title"),
			wantCode: codes.Unauthenticated, wantReason: ReasonCallerUnauthenticated},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			up := &fakeUpstream{current: seedUser()}
			svc, err := New(up, WithAuthorizer(pol), WithRequiredFields(tt.required), WithSubdivisionChecker(usCountries{}))
			if err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()
			if tt.caller != "" {
				ctx = ContextWithCaller(ctx, Caller{ID: tt.caller})
			}
			_, err = svc.UpdateCompanyUser(ctx, tt.req)
			if got := status.Code(err); got != tt.wantCode {
				t.Fatalf("code %v (%v), want %v", got, err, tt.wantCode)
			}
			if gets, updates := up.calls(); gets != tt.wantGets || updates != tt.wantUpdates {
				t.Errorf("upstream gets=%d updates=%d, want %d, %d", gets, updates, tt.wantGets, tt.wantUpdates)
			}
			if tt.wantCode == codes.OK {
				return
			}
			info := errorInfo(t, err)
			if info.GetReason() != tt.wantReason || info.GetDomain() != ErrorDomain || info.GetMetadata()["field"] != tt.wantField {
				t.Errorf("ErrorInfo %v, want reason %s field %q", info, tt.wantReason, tt.wantField)
			}
			if msg := status.Convert(err).Message(); strings.Contains(msg, "@") || (tt.caller != "" && strings.Contains(msg, tt.caller)) {
				t.Errorf("message %q names the caller or an address", msg)
			}
		})
	}
}

func TestAuthorizeGet(t *testing.T) {
	pol, err := ParsePolicy("test.yaml", []byte(testPolicy))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		caller   string
		company  int64
		wantCode codes.Code
		wantGets int
	}{
		{name: "own company", caller: "field-app", company: 8089, wantGets: 1},
		{name: "other company", caller: "field-app", company: 5120, wantCode: codes.PermissionDenied},
		{name: "unknown identity", caller: "someone", company: 8089, wantCode: codes.PermissionDenied},
		{name: "no caller", company: 8089, wantCode: codes.Unauthenticated},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			up := &fakeUpstream{current: seedUser()}
			svc, err := New(up, WithAuthorizer(pol))
			if err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()
			if tt.caller != "" {
				ctx = ContextWithCaller(ctx, Caller{ID: tt.caller})
			}
			_, err = svc.GetCompanyUser(ctx, &directoryv1.GetCompanyUserRequest{CompanyId: tt.company, Id: 1001})
			if got := status.Code(err); got != tt.wantCode {
				t.Fatalf("code %v (%v), want %v", got, err, tt.wantCode)
			}
			if gets, _ := up.calls(); gets != tt.wantGets {
				t.Errorf("upstream gets %d, want %d", gets, tt.wantGets)
			}
		})
	}
}
