package service

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/fieldmaskpb"

	directoryv1 "github.com/procore-directory/procore-directory/gen/procore/directory/v1"
)

// FuzzResolveMask: any mask either fails with violations on update_mask or
// selects only writable fields that it names.
func FuzzResolveMask(f *testing.F) {
	for _, s := range []string{"", "*", "job_title", "job_title,city", "vendor.name", "vendor.nope", "job_title.x", "*,city", "id", "a..b", ".", "user.city"} {
		f.Add(s)
	}
	uf, err := newUserFields()
	if err != nil {
		f.Fatal(err)
	}
	user := &directoryv1.CompanyUser{City: ptr("x")}
	f.Fuzz(func(t *testing.T, s string) {
		var mask *fieldmaskpb.FieldMask
		if s != "" {
			mask = &fieldmaskpb.FieldMask{Paths: strings.Split(s, ",")}
		}
		fields, violations := uf.resolveMask(mask, user)
		if len(violations) > 0 {
			if fields != nil {
				t.Fatalf("%q: both fields and violations", s)
			}
			for _, v := range violations {
				if v.GetField() != "update_mask" {
					t.Fatalf("%q: violation on %q", s, v.GetField())
				}
			}
			return
		}
		named := map[string]bool{}
		for _, p := range mask.GetPaths() {
			named[p] = true
		}
		for _, fd := range fields {
			if uf.outputOnly[fd.Name()] {
				t.Fatalf("%q selected output-only %s", s, fd.Name())
			}
			if len(named) > 0 && !named["*"] && !named[string(fd.Name())] {
				t.Fatalf("%q selected %s, which it does not name", s, fd.Name())
			}
		}
	})
}

// FuzzGatewayJSON sends arbitrary JSON bodies through the REST gateway and
// the whole gRPC stack (with a fake Procore). The gateway never answers 5xx
// to a body, and a PATCH it sends carries only fields the body names, plus
// the required fields that fill mode adds.
func FuzzGatewayJSON(f *testing.F) {
	for _, s := range []string{
		`{"job_title":"x"}`, `{"notes":null}`, `{"user":{"city":"x"}}`, `{"user":{"city":null,"zip":"1"}}`, `{}`, `[]`, `null`,
		`{"business_phone_extension":"12"}`, `{"is_active":"yes"}`, `{"vendor":{"id":1}}`, `{"user":{"id":5}}`, `{"email_address":"a@b.co"}`,
	} {
		f.Add(s, false)
		f.Add(s, true)
	}
	fake := &fakeUpstream{current: seedUser()}
	svc, err := New(fake)
	if err != nil {
		f.Fatal(err)
	}
	srv := NewServer(svc)
	defer srv.Shutdown(context.Background())
	gw, err := NewGateway(context.Background(), srv.InProcess())
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, body string, procore bool) {
		path := "/v1/companies/8089/users/1001"
		if procore {
			path = "/rest/v1.3/companies/8089/users/1001"
		}
		fake.mu.Lock()
		fake.updates = nil
		fake.mu.Unlock()
		req := httptest.NewRequest(http.MethodPatch, path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		gw.ServeHTTP(rec, req)
		if rec.Code >= 500 {
			t.Fatalf("%s %q: HTTP %d %s", path, body, rec.Code, rec.Body)
		}
		fake.mu.Lock()
		updates := fake.updates
		fake.mu.Unlock()
		if len(updates) == 0 {
			return
		}
		var top map[string]json.RawMessage
		if err := json.Unmarshal([]byte(body), &top); err != nil {
			t.Fatalf("%q is not a JSON object, yet a PATCH was sent", body)
		}
		keys := top
		if procore {
			keys = nil
			if err := json.Unmarshal(top["user"], &keys); err != nil {
				t.Fatalf("%q has no user object, yet a PATCH was sent", body)
			}
		}
		var sent struct {
			User map[string]json.RawMessage `json:"user"`
		}
		raw := updates[0].Patch.AppendJSON(nil)
		if err := json.NewDecoder(bytes.NewReader(raw)).Decode(&sent); err != nil {
			t.Fatal(err)
		}
		named := map[string]bool{}
		fields := (&directoryv1.CompanyUser{}).ProtoReflect().Descriptor().Fields()
		for k := range keys {
			if fd := fields.ByJSONName(k); fd != nil {
				named[string(fd.Name())] = true
			}
			if fd := fields.ByName(protoreflect.Name(k)); fd != nil {
				named[string(fd.Name())] = true
			}
		}
		for k := range sent.User {
			if !named[k] && k != fieldLastName && k != fieldEmailAddress {
				t.Fatalf("body %q sent %s: field %q was not named", body, raw, k)
			}
		}
	})
}
