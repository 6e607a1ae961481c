package service_test

import (
	"context"
	"strings"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/fieldmaskpb"

	directoryv1 "github.com/procore-directory/procore-directory/gen/procore/directory/v1"
	"github.com/procore-directory/procore-directory/service"
	"github.com/procore-directory/procore-directory/service/apierr"
	"github.com/procore-directory/procore-directory/service/servicetest"
)

// headerStream is the part of a gRPC server stream grpc.SetHeader needs.
type headerStream struct{ header metadata.MD }

func (h *headerStream) Method() string {
	return "/procore.directory.v1.DirectoryService/UpdateCompanyUser"
}
func (h *headerStream) SetHeader(md metadata.MD) error {
	h.header = metadata.Join(h.header, md)
	return nil
}
func (h *headerStream) SendHeader(md metadata.MD) error { return h.SetHeader(md) }
func (h *headerStream) SetTrailer(metadata.MD) error    { return nil }

// TestValidateOnlyAuthorizes: a validate_only update passes the same
// authorization as the update: a caller without directory-admin rights is
// refused an admin-only field, nothing is written, and no preview is
// returned; an allowed one gets its preview and still writes nothing.
func TestValidateOnlyAuthorizes(t *testing.T) {
	tests := []struct {
		name     string
		admin    bool
		user     *directoryv1.CompanyUser
		path     string
		wantCode codes.Code
	}{
		{"non-admin changes email_address", false, &directoryv1.CompanyUser{EmailAddress: servicetest.Ptr("new@example.com")}, "email_address", codes.PermissionDenied},
		{"non-admin sets a permission template", false, &directoryv1.CompanyUser{DefaultPermissionTemplateId: servicetest.Ptr[int64](9)}, "default_permission_template_id", codes.PermissionDenied},
		{"non-admin changes job_title", false, &directoryv1.CompanyUser{JobTitle: servicetest.Ptr("Lead")}, "job_title", codes.OK},
		{"admin changes email_address", true, &directoryv1.CompanyUser{EmailAddress: servicetest.Ptr("new@example.com")}, "email_address", codes.OK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			up := &servicetest.Upstream{Current: servicetest.SeedUser()}
			svc, err := service.New(up, service.WithAuthorizer(grantByCaller{}), service.WithRequiredFields(service.RequiredFieldsFill))
			if err != nil {
				t.Fatal(err)
			}
			stream := &headerStream{}
			ctx := grpc.NewContextWithServerTransportStream(context.WithValue(context.Background(), callerKey{}, tt.admin), stream)
			_, err = svc.UpdateCompanyUser(ctx, &directoryv1.UpdateCompanyUserRequest{
				CompanyId: 8089, Id: 1001, User: tt.user, UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{tt.path}}, ValidateOnly: true,
			})
			if status.Code(err) != tt.wantCode {
				t.Fatalf("got %v, want %v", err, tt.wantCode)
			}
			if _, updates := up.Calls(); updates != 0 {
				t.Fatalf("validate_only sent %d PATCHes", updates)
			}
			preview := strings.Join(stream.header.Get(apierr.ProcoreRequestHeader), "")
			if (preview != "") != (tt.wantCode == codes.OK) {
				t.Fatalf("preview %q with code %v", preview, tt.wantCode)
			}
			if tt.wantCode == codes.OK && !strings.Contains(preview, `"`+tt.path+`"`) {
				t.Errorf("preview %s does not send %s", preview, tt.path)
			}
		})
	}
}
