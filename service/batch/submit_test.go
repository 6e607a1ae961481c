package batch_test

import (
	"context"
	"testing"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/fieldmaskpb"

	directoryv1 "github.com/procore-directory/procore-directory/gen/procore/directory/v1"
	"github.com/procore-directory/procore-directory/service"
	"github.com/procore-directory/procore-directory/service/auth"
	"github.com/procore-directory/procore-directory/service/batch"
)

// nonAdmin authorizes every company, without directory-admin rights.
type nonAdmin struct{}

func (nonAdmin) Authorize(context.Context, int64) (auth.Grant, error) { return auth.Grant{}, nil }

// TestSubmissionRefusals: one bad item refuses the whole batch with the
// single update's error re-pathed to its index, and nothing is sent.
func TestSubmissionRefusals(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(*directoryv1.BatchUpdateCompanyUsersRequest)
		code   codes.Code
		field  string // a BadRequest field, or the ErrorInfo "field"
		index  string // ErrorInfo "index" (PERMISSION_DENIED)
	}{
		{"empty", func(r *directoryv1.BatchUpdateCompanyUsersRequest) { r.Requests = nil }, codes.InvalidArgument, "requests", ""},
		{"too many", func(r *directoryv1.BatchUpdateCompanyUsersRequest) { r.Requests = lastNames(ids(6)...).Requests }, codes.InvalidArgument, "requests", ""},
		{"user twice", func(r *directoryv1.BatchUpdateCompanyUsersRequest) { r.Requests[2].Id = 1 }, codes.InvalidArgument, "requests[2].id", ""},
		{"another company", func(r *directoryv1.BatchUpdateCompanyUsersRequest) { r.Requests[1].CompanyId = 5120 }, codes.InvalidArgument, "requests[1].company_id", ""},
		{"same company is fine but bad email", func(r *directoryv1.BatchUpdateCompanyUsersRequest) {
			r.Requests[1].CompanyId = companyID
			r.Requests[3].User.EmailAddress = ptr("not an email")
			r.Requests[3].UpdateMask.Paths = append(r.Requests[3].UpdateMask.Paths, "email_address")
		}, codes.InvalidArgument, "requests[3].user.email_address", ""},
		{"unknown mask path", func(r *directoryv1.BatchUpdateCompanyUsersRequest) {
			r.Requests[0].UpdateMask = &fieldmaskpb.FieldMask{Paths: []string{"no_such_field"}}
		}, codes.InvalidArgument, "requests[0].update_mask", ""},
		{"item request_id", func(r *directoryv1.BatchUpdateCompanyUsersRequest) {
			r.Requests[4].RequestId = "9b2f7a52-5d0e-4d7a-a1a0-0c5a7a0e4e11"
		}, codes.InvalidArgument, "requests[4].request_id", ""},
		{"batch request_id not a uuid", func(r *directoryv1.BatchUpdateCompanyUsersRequest) { r.RequestId = "x" }, codes.InvalidArgument, "request_id", ""},
		{"clears a required field", func(r *directoryv1.BatchUpdateCompanyUsersRequest) { r.Requests[2].User.LastName = nil },
			codes.InvalidArgument, "requests[2].user.last_name", ""},
		{"admin-only field", func(r *directoryv1.BatchUpdateCompanyUsersRequest) {
			r.Requests[3].User.DefaultPermissionTemplateId = ptr(int64(7))
			r.Requests[3].UpdateMask.Paths = append(r.Requests[3].UpdateMask.Paths, "default_permission_template_id")
		}, codes.PermissionDenied, "requests[3].user.default_permission_template_id", "3"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, harnessConfig{opts: []batch.Option{batch.WithMaxItems(5)}, coreOpts: []service.Option{service.WithAuthorizer(nonAdmin{})}})
			req := lastNames(ids(5)...)
			tt.mutate(req)
			op, err := h.b.Submit(context.Background(), req)
			if status.Code(err) != tt.code {
				t.Fatalf("Submit = %v, %v; want %v", op, err, tt.code)
			}
			var fields []string
			var index string
			for _, d := range status.Convert(err).Details() {
				switch d := d.(type) {
				case *errdetails.BadRequest:
					for _, v := range d.GetFieldViolations() {
						fields = append(fields, v.GetField())
					}
				case *errdetails.ErrorInfo:
					if f, ok := d.GetMetadata()["field"]; ok {
						fields = append(fields, f)
					}
					index = d.GetMetadata()["index"]
				}
			}
			if len(fields) == 0 || fields[0] != tt.field || index != tt.index {
				t.Errorf("fields %q index %q; want %q, index %q (%v)", fields, index, tt.field, tt.index, err)
			}
			if got := apiRequests(h.emu); len(got) != 0 {
				t.Errorf("%d requests sent to Procore, want none: %v", len(got), got)
			}
		})
	}
}
