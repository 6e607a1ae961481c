package gateway

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	directoryv1 "github.com/procore-directory/procore-directory/gen/procore/directory/v1"
	"github.com/procore-directory/procore-directory/service/servicetest"
)

// newUser is an empty message of the Procore body's "user" type.
func newUser() *directoryv1.CompanyUser { return &directoryv1.CompanyUser{} }

// TestScanProcoreJSONInfersTheV1Mask: the mask the one-pass scan infers
// from the user object is the mask grpc-gateway infers on /v1
// (runtime.FieldMaskFromRequestBody), for every user protojson accepts.
func TestScanProcoreJSONInfersTheV1Mask(t *testing.T) {
	for _, user := range procoreUserSeeds() {
		t.Run(user, func(t *testing.T) {
			checkMaskAgainstV1(t, user)
		})
	}
}

// FuzzScanProcoreJSON holds the scan to the same two rules for any body:
// a strict verdict equal to /v1's check (jsonViolation), and, for a body
// it accepts whose user protojson decodes, /v1's inferred mask.
func FuzzScanProcoreJSON(f *testing.F) {
	for _, user := range procoreUserSeeds() {
		f.Add(`{"user":` + user + `}`)
	}
	for _, body := range strictBodySeeds() {
		f.Add(body)
	}
	f.Fuzz(func(t *testing.T, body string) {
		got, v := scanProcoreJSON([]byte(body), newUser().ProtoReflect().Descriptor())
		if want := jsonViolation([]byte(body), ""); !proto.Equal(v, want) && len(bytes.TrimSpace([]byte(body))) > 0 {
			t.Fatalf("%q: verdict %v, /v1's check says %v", body, v, want)
		}
		if v != nil || got.user == nil {
			return
		}
		checkMaskAgainstV1(t, string(got.user))
	})
}

// TestScanProcoreJSONStrict: the scan's verdict on a body that breaks
// strict input's rules is the one /v1's check gives, field for field.
func TestScanProcoreJSONStrict(t *testing.T) {
	for _, body := range strictBodySeeds() {
		got, v := scanProcoreJSON([]byte(body), newUser().ProtoReflect().Descriptor())
		want := jsonViolation([]byte(body), "")
		if want == nil {
			t.Fatalf("%q: seed is not a strict-input violation", body)
		}
		if !proto.Equal(v, want) {
			t.Errorf("%q: verdict %v, want %v (scan found %+v)", body, v, want, got)
		}
	}
}

func procoreUserSeeds() []string {
	return []string{
		`{}`, `{"city":"Salem"}`, `{"city":null}`, `{"firstName":"Ada"}`, `{"vendor_id":"12"}`, `{"vendor_id":12}`,
		`{"vendor":{}}`, `{"vendor":null}`, `{"vendor":{"id":1,"name":"Acme"}}`, `{"created_at":"2020-01-02T03:04:05Z"}`,
		`{"add_to_new_projects":true,"city":"x","vendor":{"id":"1"},"job_title":""}`, ` { "city" : "a" } `,
	}
}

func strictBodySeeds() []string {
	return []string{
		`{"user":{"city":"a"},"user":{"city":"b"}}`, `{"user":{"city":"a","city":"b"}}`, `{"user":{"vendor":{"id":1,"id":2}}}`,
		"{\"user\":{\"city\":\"\xc3\"}}", "\xff", `{"user":{}} x`, `{"user":{}}{}`, `{"user":{"city":"a"}`, `{"user":`,
		`x`, `{"user":[1,}`, `[1,2`,
	}
}

// checkMaskAgainstV1 compares the scan's mask for user with grpc-gateway's.
func checkMaskAgainstV1(t *testing.T, user string) {
	t.Helper()
	if err := protojson.Unmarshal([]byte(user), newUser()); err != nil {
		return // refused before any mask is used
	}
	got, v := scanProcoreJSON([]byte(`{"user":`+user+`}`), newUser().ProtoReflect().Descriptor())
	if v != nil {
		t.Fatalf("user %s: %v", user, v)
	}
	want, err := runtime.FieldMaskFromRequestBody(strings.NewReader(user), newUser())
	if err != nil {
		t.Fatalf("user %s: grpc-gateway: %v", user, err)
	}
	if !slices.Equal(got.named, want.GetPaths()) {
		t.Errorf("user %s: mask %q, /v1 infers %q", user, got.named, want.GetPaths())
	}
	if string(got.user) != strings.TrimSpace(user) {
		t.Errorf("user bytes %q, want %q", got.user, strings.TrimSpace(user))
	}
}

// TestDecodeProcoreUpdate: the request a Procore PATCH becomes, or the
// fields its error names.
func TestDecodeProcoreUpdate(t *testing.T) {
	const jsonCT = "application/json"
	tests := []struct {
		name, query, contentType, body string
		want                           string // the request in protojson, when accepted
		fields                         []string
		httpStatus                     int
	}{
		{name: "inferred mask", contentType: jsonCT, body: `{"user":{"city":"Salem","vendor_id":null}}`,
			want: `{"company_id":"8089","id":"1001","user":{"city":"Salem"},"update_mask":"city,vendorId"}`},
		{name: "no content type is JSON", body: `{"user":{"city":"Salem"}}`,
			want: `{"company_id":"8089","id":"1001","user":{"city":"Salem"},"update_mask":"city"}`},
		{name: "query parameters", query: "?update_mask=city,notes&run_configurable_validations=true&validate_only=1&request_id=r", contentType: jsonCT, body: `{"user":{"city":"Salem"}}`,
			want: `{"company_id":"8089","id":"1001","user":{"city":"Salem"},"update_mask":"city,notes","run_configurable_validations":true,"validate_only":true,"request_id":"r"}`},
		{name: "multipart", contentType: "multipart/form-data; boundary=B",
			body: "--B\r\nContent-Disposition: form-data; name=\"user[city]\"\r\n\r\nSalem\r\n--B\r\nContent-Disposition: form-data; name=\"user[vendor_id]\"\r\n\r\n\r\n--B--\r\n",
			want: `{"company_id":"8089","id":"1001","user":{"city":"Salem"},"update_mask":"city,vendorId"}`},
		{name: "bad query values and an unknown key", query: "?run_configurable_validations=maybe&validate_only=no!", contentType: jsonCT, body: `{"user":{"city":"a"},"users":1}`,
			fields: []string{"run_configurable_validations", "users", "validate_only"}},
		{name: "no user", contentType: jsonCT, body: `{}`, fields: []string{"user"}},
		{name: "null body", contentType: jsonCT, body: `null`, fields: []string{"user"}},
		{name: "empty body", contentType: jsonCT, body: ``, fields: []string{"body"}},
		{name: "array body", contentType: jsonCT, body: `[]`, fields: []string{"body"}},
		{name: "user not an object", contentType: jsonCT, body: `{"user":5}`, fields: []string{"user"}},
		{name: "unknown user field", contentType: jsonCT, body: `{"user":{"citi":"a"}}`, fields: []string{"user"}},
		{name: "strict input alone", query: "?validate_only=no!", contentType: jsonCT, body: `{"user":{"city":"a","city":"b"}}`, fields: []string{"user.city"}},
		{name: "media type", contentType: "text/plain", body: `{"user":{}}`, fields: []string{"Content-Type"}, httpStatus: http.StatusUnsupportedMediaType},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodPatch, procorePattern+tt.query, strings.NewReader(tt.body))
			if tt.contentType != "" {
				r.Header.Set("Content-Type", tt.contentType)
			}
			req, err := decodeProcoreUpdate(r, map[string]string{"company_id": "8089", "id": "1001"})
			if tt.want != "" {
				if err != nil {
					t.Fatal(err)
				}
				want := &directoryv1.UpdateCompanyUserRequest{}
				if err := protojson.Unmarshal([]byte(tt.want), want); err != nil {
					t.Fatal(err)
				}
				slices.Sort(req.UpdateMask.Paths)
				if !proto.Equal(req, want) {
					t.Errorf("request %v, want %v", req, want)
				}
				return
			}
			httpStatus := http.StatusBadRequest
			if he, ok := err.(*runtime.HTTPStatusError); ok {
				httpStatus, err = he.HTTPStatus, he.Err
			}
			if want := max(tt.httpStatus, http.StatusBadRequest); httpStatus != want {
				t.Errorf("HTTP %d, want %d", httpStatus, want)
			}
			if fields := servicetest.ViolatedFields(err); !slices.Equal(fields, tt.fields) {
				t.Errorf("violations at %q, want %q (%v)", fields, tt.fields, err)
			}
		})
	}
}
