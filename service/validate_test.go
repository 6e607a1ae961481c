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
	"github.com/procore-directory/procore-directory/service/apierr"
	"github.com/procore-directory/procore-directory/service/servicetest"
)

// pngBytes is the smallest prefix http.DetectContentType recognises as PNG.
var pngBytes = []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89")

type usCountries struct{}

func (usCountries) ValidCountry(country string) bool { return country == "US" || country == "CA" }

func (usCountries) ValidSubdivision(country, sub string) bool {
	return country == "US" && (sub == "OR" || sub == "CA")
}

func violationFields(t *testing.T, err error) []string {
	t.Helper()
	st := status.Convert(err)
	var fields []string
	var info bool
	for _, d := range st.Details() {
		switch d := d.(type) {
		case *errdetails.BadRequest:
			for _, v := range d.GetFieldViolations() {
				fields = append(fields, v.GetField())
			}
		case *errdetails.ErrorInfo:
			info = d.GetDomain() == apierr.Domain && d.GetReason() != ""
		}
	}
	if !info {
		t.Errorf("error %v carries no ErrorInfo of domain %s", err, apierr.Domain)
	}
	return fields
}

// TestUpdateInvalidArgument: every kind of bad input gets INVALID_ARGUMENT,
// a BadRequest naming exactly the bad fields, and no upstream call.
func TestUpdateInvalidArgument(t *testing.T) {
	valid := func() *directoryv1.UpdateCompanyUserRequest {
		return &directoryv1.UpdateCompanyUserRequest{CompanyId: 8089, Id: 1001, User: &directoryv1.CompanyUser{JobTitle: ptr("PM")}}
	}
	mask := func(paths ...string) *fieldmaskpb.FieldMask { return &fieldmaskpb.FieldMask{Paths: paths} }
	tests := []struct {
		name   string
		mode   RequiredFieldsMode
		edit   func(r *directoryv1.UpdateCompanyUserRequest)
		fields []string
	}{
		{"zero company", RequiredFieldsFill, func(r *directoryv1.UpdateCompanyUserRequest) { r.CompanyId = 0 }, []string{"company_id"}},
		{"negative id", RequiredFieldsFill, func(r *directoryv1.UpdateCompanyUserRequest) { r.Id = -4 }, []string{"id"}},
		{"no user", RequiredFieldsFill, func(r *directoryv1.UpdateCompanyUserRequest) { r.User = nil }, []string{"user"}},
		{"unknown path", RequiredFieldsFill, func(r *directoryv1.UpdateCompanyUserRequest) { r.UpdateMask = mask("job_title", "jobTitle") }, []string{"update_mask"}},
		{"two unknown paths", RequiredFieldsFill, func(r *directoryv1.UpdateCompanyUserRequest) { r.UpdateMask = mask("nope", "nada") }, []string{"update_mask", "update_mask"}},
		{"nested into scalar", RequiredFieldsFill, func(r *directoryv1.UpdateCompanyUserRequest) { r.UpdateMask = mask("job_title.x") }, []string{"update_mask"}},
		{"nested unknown in output-only message", RequiredFieldsFill, func(r *directoryv1.UpdateCompanyUserRequest) { r.UpdateMask = mask("vendor.nope") }, []string{"update_mask"}},
		{"wildcard with others", RequiredFieldsFill, func(r *directoryv1.UpdateCompanyUserRequest) { r.UpdateMask = mask("*", "job_title") }, []string{"update_mask"}},
		{"clear last_name", RequiredFieldsFill, func(r *directoryv1.UpdateCompanyUserRequest) { r.UpdateMask = mask("last_name") }, []string{"user.last_name"}},
		{"clear email", RequiredFieldsFill, func(r *directoryv1.UpdateCompanyUserRequest) { r.UpdateMask = mask("email_address", "job_title") }, []string{"user.email_address"}},
		{"wildcard clears required", RequiredFieldsFill, func(r *directoryv1.UpdateCompanyUserRequest) { r.UpdateMask = mask("*") }, []string{"user.last_name", "user.email_address"}},
		{"empty last_name", RequiredFieldsFill, func(r *directoryv1.UpdateCompanyUserRequest) { r.User.LastName = ptr("") }, []string{"user.last_name"}},
		{"bad email", RequiredFieldsFill, func(r *directoryv1.UpdateCompanyUserRequest) { r.User.EmailAddress = ptr("not-an-address") }, []string{"user.email_address"}},
		{"lower-case country", RequiredFieldsFill, func(r *directoryv1.UpdateCompanyUserRequest) { r.User.CountryCode = ptr("us") }, []string{"user.country_code"}},
		{"state not in country", RequiredFieldsFill, func(r *directoryv1.UpdateCompanyUserRequest) {
			r.User.CountryCode, r.User.StateCode = ptr("US"), ptr("BC")
		}, []string{"user.state_code"}},
		{"unknown country", RequiredFieldsFill, func(r *directoryv1.UpdateCompanyUserRequest) { r.User.CountryCode = ptr("XK") }, []string{"user.country_code"}},
		{"too long name", RequiredFieldsFill, func(r *directoryv1.UpdateCompanyUserRequest) { r.User.FirstName = ptr(strings.Repeat("a", 256)) }, []string{"user.first_name"}},
		{"zero vendor", RequiredFieldsFill, func(r *directoryv1.UpdateCompanyUserRequest) { r.User.VendorId = ptr(int64(0)) }, []string{"user.vendor_id"}},
		{"negative extension", RequiredFieldsFill, func(r *directoryv1.UpdateCompanyUserRequest) { r.User.BusinessPhoneExtension = ptr(int64(-1)) }, []string{"user.business_phone_extension"}},
		{"several at once", RequiredFieldsFill, func(r *directoryv1.UpdateCompanyUserRequest) {
			r.CompanyId = 0
			r.User.EmailAddress = ptr("x")
			r.User.CountryCode = ptr("usa")
		}, []string{"company_id", "user.email_address", "user.country_code"}},
		{"avatar not an image", RequiredFieldsFill, func(r *directoryv1.UpdateCompanyUserRequest) {
			r.Avatar = &directoryv1.AvatarUpload{Content: []byte("GIF? no, text"), FileName: "a.gif", ContentType: "image/gif"}
		}, []string{"avatar.content"}},
		{"avatar type disagrees with bytes", RequiredFieldsFill, func(r *directoryv1.UpdateCompanyUserRequest) {
			r.Avatar = &directoryv1.AvatarUpload{Content: pngBytes, FileName: "a.jpg", ContentType: "image/jpeg"}
		}, []string{"avatar.content"}},
		{"avatar unsupported type", RequiredFieldsFill, func(r *directoryv1.UpdateCompanyUserRequest) {
			r.Avatar = &directoryv1.AvatarUpload{Content: pngBytes, FileName: "a.svg", ContentType: "image/svg+xml"}
		}, []string{"avatar.content_type"}},
		{"avatar too large", RequiredFieldsFill, func(r *directoryv1.UpdateCompanyUserRequest) {
			r.Avatar = &directoryv1.AvatarUpload{Content: append(pngBytes, make([]byte, 10<<20)...), FileName: "a.png", ContentType: "image/png"}
		}, []string{"avatar.content"}},
		{"avatar file name with slash", RequiredFieldsFill, func(r *directoryv1.UpdateCompanyUserRequest) {
			r.Avatar = &directoryv1.AvatarUpload{Content: pngBytes, FileName: "../a.png", ContentType: "image/png"}
		}, []string{"avatar.file_name"}},
		{"reject mode without required", RequiredFieldsReject, func(r *directoryv1.UpdateCompanyUserRequest) {}, []string{"update_mask", "update_mask"}},
		{"reject mode clears last_name", RequiredFieldsReject, func(r *directoryv1.UpdateCompanyUserRequest) { r.UpdateMask = mask("last_name") }, []string{"user.last_name"}},
		{"reject mode clears last_name, leaves out email", RequiredFieldsReject, func(r *directoryv1.UpdateCompanyUserRequest) { r.UpdateMask = mask("last_name", "job_title") }, []string{"user.last_name", "update_mask"}},
		{"auto mode clears email", RequiredFieldsAuto, func(r *directoryv1.UpdateCompanyUserRequest) { r.UpdateMask = mask("email_address", "job_title") }, []string{"user.email_address"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake := &servicetest.Upstream{Current: servicetest.SeedUser()}
			svc, err := New(fake, WithRequiredFields(tt.mode), WithSubdivisionChecker(usCountries{}))
			if err != nil {
				t.Fatal(err)
			}
			req := valid()
			tt.edit(req)
			_, err = svc.UpdateCompanyUser(context.Background(), req)
			if status.Code(err) != codes.InvalidArgument {
				t.Fatalf("code = %v (%v), want INVALID_ARGUMENT", status.Code(err), err)
			}
			got := violationFields(t, err)
			if strings.Join(got, ",") != strings.Join(tt.fields, ",") {
				t.Errorf("violations on %q, want %q (%v)", got, tt.fields, err)
			}
			if g, u := fake.Calls(); g+u != 0 {
				t.Errorf("upstream called (%d gets, %d updates) for invalid input", g, u)
			}
		})
	}
}

// TestUnmaskedInvalidFieldsAreIgnored: AIP-134 ignores fields outside the
// mask, so their values cannot fail the request and are never sent.
func TestUnmaskedInvalidFieldsAreIgnored(t *testing.T) {
	fake := &servicetest.Upstream{Current: servicetest.SeedUser()}
	svc, err := New(fake, WithRequiredFields(RequiredFieldsMaskedOnly))
	if err != nil {
		t.Fatal(err)
	}
	_, err = svc.UpdateCompanyUser(context.Background(), &directoryv1.UpdateCompanyUserRequest{
		CompanyId: 8089, Id: 1001,
		User:       &directoryv1.CompanyUser{JobTitle: ptr("PM"), EmailAddress: ptr("garbage"), CountryCode: ptr("xx")},
		UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"job_title"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := string(fake.Updates()[0].Patch.AppendJSON(nil)); got != `{"user":{"job_title":"PM"}}` {
		t.Errorf("body %s", got)
	}
}
