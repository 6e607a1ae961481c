package gateway_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"google.golang.org/protobuf/reflect/protoreflect"

	directoryv1 "github.com/procore-directory/procore-directory/gen/procore/directory/v1"
	"github.com/procore-directory/procore-directory/service/server"
	"github.com/procore-directory/procore-directory/service/servicetest"
)

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
	fake := &servicetest.Upstream{Current: servicetest.SeedUser()}
	cfg := server.DefaultConfig()
	cfg.Upstream = fake
	srv, err := server.New(context.Background(), cfg)
	if err != nil {
		f.Fatal(err)
	}
	defer srv.Shutdown(context.Background())
	gw := srv.Handler()
	f.Fuzz(func(t *testing.T, body string, procore bool) {
		path := "/v1/companies/8089/users/1001"
		if procore {
			path = "/rest/v1.3/companies/8089/users/1001"
		}
		fake.Reset()
		req := httptest.NewRequest(http.MethodPatch, path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		gw.ServeHTTP(rec, req)
		if rec.Code >= 500 {
			t.Fatalf("%s %q: HTTP %d %s", path, body, rec.Code, rec.Body)
		}
		updates := fake.Updates()
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
			if !named[k] && k != "last_name" && k != "email_address" {
				t.Fatalf("body %q sent %s: field %q was not named", body, raw, k)
			}
		}
	})
}
