package server_test

import (
	"context"
	"testing"

	"google.golang.org/protobuf/types/known/fieldmaskpb"

	directoryv1 "github.com/procore-directory/procore-directory/gen/procore/directory/v1"
	"github.com/procore-directory/procore-directory/service"
)

func TestGRPCUpdateAndGet(t *testing.T) {
	tests := []struct {
		name     string
		required service.RequiredFieldsMode
		req      *directoryv1.UpdateCompanyUserRequest
		wantBody string
		check    func(t *testing.T, u *directoryv1.CompanyUser)
	}{
		{
			name:     "one field, fill",
			required: service.RequiredFieldsFill,
			req: &directoryv1.UpdateCompanyUserRequest{CompanyId: 8089, Id: 1001,
				User:       &directoryv1.CompanyUser{JobTitle: ptr("Senior PM"), City: ptr("not masked")},
				UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"job_title"}}},
			wantBody: `{"user":{"email_address":"` + mariaEmail + `","job_title":"Senior PM","last_name":"Okafor"}}`,
			check: func(t *testing.T, u *directoryv1.CompanyUser) {
				if u.GetJobTitle() != "Senior PM" || u.GetCity() != "Portland" || u.GetId() != 1001 {
					t.Errorf("user %v", u)
				}
			},
		},
		{
			name:     "clear masked unset fields, masked-only",
			required: service.RequiredFieldsMaskedOnly,
			req: &directoryv1.UpdateCompanyUserRequest{CompanyId: 8089, Id: 1001,
				User:       &directoryv1.CompanyUser{LastName: ptr("Okafor-Reyes"), EmailAddress: ptr(mariaEmail)},
				UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"last_name", "email_address", "notes", "business_phone_extension"}}},
			wantBody: `{"user":{"business_phone_extension":null,"email_address":"` + mariaEmail + `","last_name":"Okafor-Reyes","notes":""}}`,
			check: func(t *testing.T, u *directoryv1.CompanyUser) {
				if u.GetNotes() != "" || u.Notes == nil || u.BusinessPhoneExtension != nil || u.GetName() != "Maria Okafor-Reyes" {
					t.Errorf("user %v", u)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := startStack(t, withoutRateLimits(), withRequired(tt.required))
			u, err := s.client.UpdateCompanyUser(context.Background(), tt.req)
			if err != nil {
				t.Fatal(err)
			}
			if got := s.patches(t); len(got) != 1 || got[0] != tt.wantBody {
				t.Fatalf("upstream PATCH bodies %q\nwant %q", got, tt.wantBody)
			}
			tt.check(t, u)
			again, err := s.client.GetCompanyUser(context.Background(), &directoryv1.GetCompanyUserRequest{CompanyId: 8089, Id: 1001})
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, again)
		})
	}
}
