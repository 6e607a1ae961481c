package server_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	directoryv1 "github.com/procore-directory/procore-directory/gen/procore/directory/v1"
	"github.com/procore-directory/procore-directory/service"
)

func TestPassThroughAuth(t *testing.T) {
	s := startStack(t, withoutRateLimits(), withPassThrough(), withRequired(service.RequiredFieldsMaskedOnly))
	ctx := context.Background()
	_, err := s.client.GetCompanyUser(ctx, &directoryv1.GetCompanyUserRequest{CompanyId: 8089, Id: 1001})
	if status.Code(err) != codes.Unauthenticated {
		t.Fatalf("no token: %v", err)
	}
	if n := len(s.emu.Requests()); n != 0 {
		t.Fatalf("%d upstream requests without a token", n)
	}
	code, _, _ := s.do(t, http.MethodGet, "/v1/companies/8089/users/1001", "", "")
	if code != http.StatusUnauthorized {
		t.Fatalf("REST without token: %d", code)
	}

	field, err := s.emu.IssueToken("field-app")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.client.GetCompanyUser(withToken(ctx, field), &directoryv1.GetCompanyUserRequest{CompanyId: 8089, Id: 1001}); err != nil {
		t.Fatalf("with token: %v", err)
	}
	code, _, _ = s.do(t, http.MethodGet, "/v1/companies/8089/users/1001", "", "", "Authorization", "Bearer "+field)
	if code != http.StatusOK {
		t.Fatalf("REST with token: %d", code)
	}
	// field-app is no Directory Admin: Procore refuses an e-mail change.
	_, err = s.client.UpdateCompanyUser(withToken(ctx, field), &directoryv1.UpdateCompanyUserRequest{CompanyId: 8089, Id: 1001,
		User: &directoryv1.CompanyUser{LastName: ptr("Okafor"), EmailAddress: ptr("maria@elsewhere.example")}})
	if status.Code(err) != codes.PermissionDenied {
		t.Fatalf("admin-only change: %v", err)
	}
	if strings.Contains(err.Error(), field) || strings.Contains(err.Error(), "maria@elsewhere.example") {
		t.Errorf("error leaks a token or e-mail: %v", err)
	}
	// Company 5120 is not connected to field-app.
	_, err = s.client.GetCompanyUser(withToken(ctx, field), &directoryv1.GetCompanyUserRequest{CompanyId: 5120, Id: 2001})
	if status.Code(err) != codes.PermissionDenied {
		t.Fatalf("other company: %v", err)
	}
	// An unknown token is Procore's 401.
	_, err = s.client.GetCompanyUser(withToken(ctx, "forged"), &directoryv1.GetCompanyUserRequest{CompanyId: 8089, Id: 1001})
	if status.Code(err) != codes.Unauthenticated {
		t.Fatalf("forged token: %v", err)
	}
}
