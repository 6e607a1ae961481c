package service

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/fieldmaskpb"

	directoryv1 "github.com/procore-directory/procore-directory/gen/procore/directory/v1"
	"github.com/procore-directory/procore-directory/service/apierr"
	"github.com/procore-directory/procore-directory/service/servicetest"
	"github.com/procore-directory/procore-directory/upstream"
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

// TestAvatarIsPassedThrough: a valid avatar reaches the upstream request.
func TestAvatarIsPassedThrough(t *testing.T) {
	fake := &servicetest.Upstream{Current: servicetest.SeedUser()}
	svc, _ := New(fake, WithRequiredFields(RequiredFieldsMaskedOnly))
	_, err := svc.UpdateCompanyUser(context.Background(), &directoryv1.UpdateCompanyUserRequest{
		CompanyId: 8089, Id: 1001, User: &directoryv1.CompanyUser{},
		Avatar: &directoryv1.AvatarUpload{Content: pngBytes, FileName: "me.png", ContentType: "image/png"},
	})
	if err != nil {
		t.Fatal(err)
	}
	a := fake.Updates()[0].Avatar
	if a == nil || a.FileName != "me.png" || a.ContentType != "image/png" || string(a.Data) != string(pngBytes) {
		t.Errorf("avatar %+v", a)
	}
	if fake.Updates()[0].Patch.Len() != 0 {
		t.Errorf("patch %s, want no fields", fake.Updates()[0].Patch.AppendJSON(nil))
	}
}

// TestDeadlineReachesUpstream: the caller's deadline is the upstream call's.
func TestDeadlineReachesUpstream(t *testing.T) {
	fake := &servicetest.Upstream{Current: servicetest.SeedUser()}
	svc, _ := New(fake)
	deadline := time.Now().Add(time.Minute)
	ctx, cancel := context.WithDeadline(context.Background(), deadline)
	defer cancel()
	if _, err := svc.GetCompanyUser(ctx, &directoryv1.GetCompanyUserRequest{CompanyId: 1, Id: 2}); err != nil {
		t.Fatal(err)
	}
	if got, ok := fake.LastContext().Deadline(); !ok || !got.Equal(deadline) {
		t.Errorf("upstream deadline %v %v, want %v", got, ok, deadline)
	}
}

// TestErrorMapping covers every row of the service's error table.
func TestErrorMapping(t *testing.T) {
	rl := upstream.RateLimit{Known: true, Limit: 25, Remaining: 0, Reset: time.Unix(1_900_000_000, 0)}
	tests := []struct {
		name       string
		err        error
		code       codes.Code
		reason     string
		retryDelay time.Duration
		quota      bool
		violations []string
	}{
		{"400", &upstream.Error{Kind: upstream.KindStatus, StatusCode: 400, Message: "Missing Procore-Company-Id header!"}, codes.InvalidArgument, apierr.ReasonUpstreamBadRequest, 0, false, []string{"user"}},
		{"400 field", &upstream.Error{Kind: upstream.KindStatus, StatusCode: 400, FieldErrors: []upstream.FieldError{{Field: "last_name", Messages: []string{"can't be blank"}}}}, codes.InvalidArgument, apierr.ReasonUpstreamBadRequest, 0, false, []string{"user.last_name"}},
		{"401", &upstream.Error{Kind: upstream.KindStatus, StatusCode: 401}, codes.Unauthenticated, apierr.ReasonUpstreamUnauthenticated, 0, false, nil},
		{"403", &upstream.Error{Kind: upstream.KindStatus, StatusCode: 403}, codes.PermissionDenied, apierr.ReasonUpstreamPermissionDenied, 0, false, nil},
		{"404", &upstream.Error{Kind: upstream.KindStatus, StatusCode: 404}, codes.NotFound, apierr.ReasonUpstreamNotFound, 0, false, nil},
		{"409", &upstream.Error{Kind: upstream.KindStatus, StatusCode: 409}, codes.Aborted, apierr.ReasonUpstreamConflict, 0, false, nil},
		{"422", &upstream.Error{Kind: upstream.KindStatus, StatusCode: 422, FieldErrors: []upstream.FieldError{
			{Field: "email_address", Messages: []string{"has already been taken"}},
			{Field: "state_code", Messages: []string{"is invalid", "is not a subdivision"}},
		}}, codes.InvalidArgument, apierr.ReasonUpstreamValidation, 0, false, []string{"user.email_address", "user.state_code", "user.state_code"}},
		{"429", &upstream.Error{Kind: upstream.KindStatus, StatusCode: 429, RetryAfter: 7 * time.Second, RateLimit: rl}, codes.ResourceExhausted, apierr.ReasonUpstreamRateLimited, 7 * time.Second, true, nil},
		{"local rate limit", &upstream.Error{Kind: upstream.KindRateLimited, RetryAfter: 3 * time.Second, RateLimit: rl}, codes.ResourceExhausted, apierr.ReasonUpstreamRateLimited, 3 * time.Second, true, nil},
		{"500", &upstream.Error{Kind: upstream.KindStatus, StatusCode: 500}, codes.Internal, apierr.ReasonUpstreamInternal, 0, false, nil},
		{"503", &upstream.Error{Kind: upstream.KindStatus, StatusCode: 503, RetryAfter: 2 * time.Second}, codes.Unavailable, apierr.ReasonUpstreamUnavailable, 2 * time.Second, false, nil},
		{"502 on get", &upstream.Error{Kind: upstream.KindStatus, StatusCode: 502}, codes.Unavailable, apierr.ReasonUpstreamUnavailable, 0, false, nil},
		{"outcome unknown", &upstream.Error{Kind: upstream.KindOutcomeUnknown, StatusCode: 504}, codes.Unavailable, apierr.ReasonUpstreamOutcomeUnknown, 0, false, nil},
		{"unreachable", &upstream.Error{Kind: upstream.KindUnavailable, Err: errors.New("dial tcp: connection refused")}, codes.Unavailable, apierr.ReasonUpstreamUnavailable, 0, false, nil},
		{"unreadable body", &upstream.Error{Kind: upstream.KindBadResponse, StatusCode: 200}, codes.Internal, apierr.ReasonUpstreamBadResponse, 0, false, nil},
		{"no token", fmt.Errorf("wrapped: %w", upstream.ErrNoToken), codes.Unauthenticated, apierr.ReasonMissingCredentials, 0, false, nil},
		{"unexpected 418", &upstream.Error{Kind: upstream.KindStatus, StatusCode: 418}, codes.Unknown, apierr.ReasonUpstreamUnexpected, 0, false, nil},
		{"301", &upstream.Error{Kind: upstream.KindStatus, StatusCode: 301}, codes.Internal, apierr.ReasonUpstreamRedirect, 0, false, nil},
		{"307", &upstream.Error{Kind: upstream.KindStatus, StatusCode: 307}, codes.Internal, apierr.ReasonUpstreamRedirect, 0, false, nil},
		{"not an upstream error", errors.New("boom"), codes.Internal, apierr.ReasonInternal, 0, false, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := fromUpstream(context.Background(), "update company user", tt.err)
			st := status.Convert(err)
			if st.Code() != tt.code {
				t.Fatalf("code %v, want %v (%v)", st.Code(), tt.code, err)
			}
			var (
				reason     string
				retry      time.Duration
				quota      bool
				violations []string
			)
			for _, d := range st.Details() {
				switch d := d.(type) {
				case *errdetails.ErrorInfo:
					reason = d.GetReason()
					if d.GetDomain() != apierr.Domain {
						t.Errorf("domain %q", d.GetDomain())
					}
				case *errdetails.RetryInfo:
					retry = d.GetRetryDelay().AsDuration()
				case *errdetails.QuotaFailure:
					quota = len(d.GetViolations()) == 1
				case *errdetails.BadRequest:
					for _, v := range d.GetFieldViolations() {
						violations = append(violations, v.GetField())
					}
				}
			}
			if reason != tt.reason || retry != tt.retryDelay || quota != tt.quota || strings.Join(violations, ",") != strings.Join(tt.violations, ",") {
				t.Errorf("reason %q retry %v quota %v violations %q; want %q %v %v %q", reason, retry, quota, violations, tt.reason, tt.retryDelay, tt.quota, tt.violations)
			}
		})
	}
}

// TestCallerContextErrors: the caller's own deadline or cancellation wins
// over whatever the upstream error says.
func TestCallerContextErrors(t *testing.T) {
	expired, cancel := context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
	defer cancel()
	canceled, cancel2 := context.WithCancel(context.Background())
	cancel2()
	uerr := &upstream.Error{Kind: upstream.KindOutcomeUnknown, Err: context.DeadlineExceeded}
	if c := status.Code(fromUpstream(expired, "op", uerr)); c != codes.DeadlineExceeded {
		t.Errorf("expired: %v", c)
	}
	if c := status.Code(fromUpstream(canceled, "op", uerr)); c != codes.Canceled {
		t.Errorf("canceled: %v", c)
	}
}
