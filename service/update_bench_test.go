package service

import (
	"context"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/fieldmaskpb"

	directoryv1 "github.com/procore-directory/procore-directory/gen/procore/directory/v1"
	"github.com/procore-directory/procore-directory/service/servicetest"
	"github.com/procore-directory/procore-directory/upstream"
)

// BenchmarkUpdateHandler is UpdateCompanyUser without any I/O: mask
// resolution, validation, the patch, and the conversion of the answer (the
// update of service/server/bench_test.go, masked-only).
func BenchmarkUpdateHandler(b *testing.B) { benchUpdate(b) }

// benchUpdate runs BenchmarkUpdateHandler's update on a Service with opts
// added.
func benchUpdate(b *testing.B, opts ...Option) {
	now := time.Date(2026, 11, 29, 3, 32, 46, 0, time.UTC)
	svc, err := New(&servicetest.Upstream{Discard: true, Current: &upstream.User{
		ID: 1001, Name: ptr("Maria Diaz"), FirstName: ptr("Maria"), LastName: ptr("Diaz"),
		EmailAddress: ptr("ana.diaz@summitridge.example"), JobTitle: ptr("Senior Project Manager"),
		City: ptr("Portland"), CountryCode: ptr("US"), StateCode: ptr("OR"), IsActive: ptr(true),
		PermissionTemplate: &upstream.NamedRef{ID: 41, Name: "Project Manager"},
		CreatedAt:          &now, UpdatedAt: &now,
	}}, append([]Option{WithRequiredFields(RequiredFieldsMaskedOnly)}, opts...)...)
	if err != nil {
		b.Fatal(err)
	}
	req := &directoryv1.UpdateCompanyUserRequest{
		CompanyId: 8089, Id: 1001,
		User: &directoryv1.CompanyUser{
			LastName: ptr("Diaz"), EmailAddress: ptr("ana.diaz@summitridge.example"),
			JobTitle: ptr("Senior Project Manager"), MobilePhone: ptr("+1 503 555 0142"), IsActive: ptr(true),
		},
		UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"last_name", "email_address", "job_title", "mobile_phone", "is_active"}},
	}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := svc.UpdateCompanyUser(ctx, req); err != nil {
			b.Fatal(err)
		}
	}
}
