package auth_test

import (
	"context"
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
	"github.com/procore-directory/procore-directory/service/servicetest"
)

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
	pol, err := auth.ParsePolicy("test.yaml", []byte(auth.TestPolicy))
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
		required    service.RequiredFieldsMode
		req         *directoryv1.UpdateCompanyUserRequest
		wantCode    codes.Code
		wantReason  string
		wantField   string
		wantGets    int
		wantUpdates int
	}{
		{name: "admin changes email", caller: admin, req: update(8089, &directoryv1.CompanyUser{EmailAddress: servicetest.Ptr("new@corp.example"), LastName: servicetest.Ptr("Okafor")}, "email_address", "last_name"), wantUpdates: 1},
		{name: "admin changes template in other company", caller: admin, req: update(5120, &directoryv1.CompanyUser{DefaultPermissionTemplateId: servicetest.Ptr(int64(42))}, "default_permission_template_id"), wantGets: 1, wantUpdates: 1},
		{name: "no admin changes job title", caller: field, req: update(8089, &directoryv1.CompanyUser{JobTitle: servicetest.Ptr("Lead")}, "job_title"), wantGets: 1, wantUpdates: 1},
		{name: "no admin changes job title, masked-only", caller: field, required: service.RequiredFieldsMaskedOnly, req: update(8089, &directoryv1.CompanyUser{JobTitle: servicetest.Ptr("Lead")}, "job_title"), wantUpdates: 1},
		{name: "no admin sends email unchanged", caller: field, required: service.RequiredFieldsMaskedOnly, req: update(8089, &directoryv1.CompanyUser{EmailAddress: servicetest.Ptr("maria.okafor@summitridge.example"), LastName: servicetest.Ptr("Okafor")}, "email_address", "last_name"), wantGets: 1, wantUpdates: 1},
		{name: "no admin changes email: one GET, no PATCH", caller: field, required: service.RequiredFieldsMaskedOnly, req: update(8089, &directoryv1.CompanyUser{EmailAddress: servicetest.Ptr("new@corp.example"), LastName: servicetest.Ptr("Okafor")}, "email_address", "last_name"),
			wantCode: codes.PermissionDenied, wantReason: apierr.ReasonAdminFieldNotAllowed, wantField: "user.email_address", wantGets: 1},
		{name: "no admin changes email, fill reuses its GET", caller: field, req: update(8089, &directoryv1.CompanyUser{EmailAddress: servicetest.Ptr("new@corp.example")}, "email_address"),
			wantCode: codes.PermissionDenied, wantReason: apierr.ReasonAdminFieldNotAllowed, wantField: "user.email_address", wantGets: 1},
		{name: "no admin changes default template", caller: field, req: update(8089, &directoryv1.CompanyUser{DefaultPermissionTemplateId: servicetest.Ptr(int64(41))}, "default_permission_template_id"),
			wantCode: codes.PermissionDenied, wantReason: apierr.ReasonAdminFieldNotAllowed, wantField: "user.default_permission_template_id"},
		{name: "no admin changes company template", caller: field, req: update(8089, &directoryv1.CompanyUser{}, "company_permission_template_id"),
			wantCode: codes.PermissionDenied, wantReason: apierr.ReasonAdminFieldNotAllowed, wantField: "user.company_permission_template_id"},
		{name: "no admin changes add_to_new_projects (implied mask)", caller: field, req: update(8089, &directoryv1.CompanyUser{AddToNewProjects: servicetest.Ptr(true), JobTitle: servicetest.Ptr("x")}),
			wantCode: codes.PermissionDenied, wantReason: apierr.ReasonAdminFieldNotAllowed, wantField: "user.add_to_new_projects"},
		{name: "no admin, full replacement", caller: field, req: update(8089, &directoryv1.CompanyUser{LastName: servicetest.Ptr("O"), EmailAddress: servicetest.Ptr("maria.okafor@summitridge.example")}, "*"),
			wantCode: codes.PermissionDenied, wantReason: apierr.ReasonAdminFieldNotAllowed, wantField: "user.default_permission_template_id"},
		{name: "company not in policy", caller: field, req: update(5120, &directoryv1.CompanyUser{JobTitle: servicetest.Ptr("Lead")}, "job_title"),
			wantCode: codes.PermissionDenied, wantReason: apierr.ReasonCompanyNotAllowed},
		{name: "unknown identity", caller: "spiffe://corp.example/stranger", req: update(8089, &directoryv1.CompanyUser{JobTitle: servicetest.Ptr("Lead")}, "job_title"),
			wantCode: codes.PermissionDenied, wantReason: apierr.ReasonCallerNotAllowed},
		{name: "no caller", req: update(8089, &directoryv1.CompanyUser{JobTitle: servicetest.Ptr("Lead")}, "job_title"),
			wantCode: codes.Unauthenticated, wantReason: apierr.ReasonCallerUnauthenticated},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			up := &servicetest.Upstream{Current: servicetest.SeedUser()}
			svc, err := service.New(up, service.WithAuthorizer(pol), service.WithRequiredFields(tt.required))
			if err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()
			if tt.caller != "" {
				ctx = auth.ContextWithCaller(ctx, auth.Caller{ID: tt.caller})
			}
			_, err = svc.UpdateCompanyUser(ctx, tt.req)
			if got := status.Code(err); got != tt.wantCode {
				t.Fatalf("code %v (%v), want %v", got, err, tt.wantCode)
			}
			if gets, updates := up.Calls(); gets != tt.wantGets || updates != tt.wantUpdates {
				t.Errorf("upstream gets=%d updates=%d, want %d, %d", gets, updates, tt.wantGets, tt.wantUpdates)
			}
			if tt.wantCode == codes.OK {
				return
			}
			info := errorInfo(t, err)
			if info.GetReason() != tt.wantReason || info.GetDomain() != apierr.Domain || info.GetMetadata()["field"] != tt.wantField {
				t.Errorf("ErrorInfo %v, want reason %s field %q", info, tt.wantReason, tt.wantField)
			}
			if msg := status.Convert(err).Message(); strings.Contains(msg, "@") || (tt.caller != "" && strings.Contains(msg, tt.caller)) {
				t.Errorf("message %q names the caller or an address", msg)
			}
		})
	}
}

func TestAuthorizeGet(t *testing.T) {
	pol, err := auth.ParsePolicy("test.yaml", []byte(auth.TestPolicy))
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
			up := &servicetest.Upstream{Current: servicetest.SeedUser()}
			svc, err := service.New(up, service.WithAuthorizer(pol))
			if err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()
			if tt.caller != "" {
				ctx = auth.ContextWithCaller(ctx, auth.Caller{ID: tt.caller})
			}
			_, err = svc.GetCompanyUser(ctx, &directoryv1.GetCompanyUserRequest{CompanyId: tt.company, Id: 1001})
			if got := status.Code(err); got != tt.wantCode {
				t.Fatalf("code %v (%v), want %v", got, err, tt.wantCode)
			}
			if gets, _ := up.Calls(); gets != tt.wantGets {
				t.Errorf("upstream gets %d, want %d", gets, tt.wantGets)
			}
		})
	}
}
