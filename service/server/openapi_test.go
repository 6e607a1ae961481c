package server_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"mime/multipart"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/procore-directory/procore-directory/gen/openapi"
	"github.com/procore-directory/procore-directory/service"
)

// openAPIDoc is the part of the OpenAPI 3 document the agreement test reads.
type openAPIDoc struct {
	Paths map[string]map[string]json.RawMessage `json:"paths"`
}

type openAPIOperation struct {
	Parameters []struct {
		Name string `json:"name"`
		In   string `json:"in"`
	} `json:"parameters"`
	RequestBody *struct {
		Content map[string]json.RawMessage `json:"content"`
	} `json:"requestBody"`
}

// sampleQuery returns a valid value for each query parameter a document
// may name; a parameter without one fails the test, so a new documented
// parameter gets a sample (and so a check) here. A request_id is new for
// every request: reusing one for another request is refused, by design.
func sampleQuery(name string) (string, bool) {
	switch name {
	case "update_mask":
		return "job_title", true
	case "run_configurable_validations":
		return "false", true
	case "request_id":
		return uuid.NewString(), true
	case "validate_only":
		return "true", true
	case "filter", "page_token": // ListOperations, ListAuditEvents: none is a valid value
		return "", true
	case "page_size":
		return "10", true
	case "return_partial_success":
		return "false", true
	}
	return "", false
}

// TestOpenAPIAgreesWithTheServer walks the served OpenAPI 3 document route
// by route against the real stack (server.New and the emulator): every
// documented operation answers 2xx with each documented query parameter
// and each documented request content type, and the server refuses what
// the document does not name: an undocumented query parameter (400 naming
// it), an undocumented content type (415), an undocumented method (405).
func TestOpenAPIAgreesWithTheServer(t *testing.T) {
	var doc openAPIDoc
	if err := json.Unmarshal(openapi.JSONv3, &doc); err != nil {
		t.Fatal(err)
	}
	s := startStack(t, withoutRateLimits(), withRequired(service.RequiredFieldsFill), withFileAudit(t))
	allMethods := []string{http.MethodGet, http.MethodPatch, http.MethodPost, http.MethodPut, http.MethodDelete}
	for tmpl, ops := range doc.Paths {
		// Each request naming an operation gets a new, done one: DELETE
		// removes it.
		pathOf := func() string {
			path := strings.NewReplacer("{company_id}", "8089", "{id}", "1001").Replace(tmpl)
			if strings.Contains(path, "{operation}") {
				path = strings.Replace(path, "{operation}", newDoneOperation(t, s), 1)
			}
			return path
		}
		documented := map[string]bool{}
		for method, raw := range ops {
			method = strings.ToUpper(method)
			if !slices.Contains(allMethods, method) {
				continue
			}
			documented[method] = true
			var op openAPIOperation
			if err := json.Unmarshal(raw, &op); err != nil {
				t.Fatal(err)
			}
			contentTypes := []string{""}
			if op.RequestBody != nil {
				contentTypes = contentTypes[:0]
				for ct := range op.RequestBody.Content {
					contentTypes = append(contentTypes, ct)
				}
			}
			for _, ct := range contentTypes {
				for _, p := range op.Parameters {
					if p.In != "query" {
						continue
					}
					v, ok := sampleQuery(p.Name)
					if !ok {
						t.Errorf("%s %s: no sample value for documented query parameter %q", method, tmpl, p.Name)
						continue
					}
					q := url.Values{p.Name: {v}}
					if code, body := sendDocumented(t, s, method, tmpl, pathOf()+"?"+q.Encode(), ct); code/100 != 2 {
						t.Errorf("%s %s?%s (%s): %d %s", method, tmpl, q.Encode(), ct, code, body)
					}
				}
				if code, body := sendDocumented(t, s, method, tmpl, pathOf(), ct); code/100 != 2 {
					t.Errorf("%s %s (%s): %d %s", method, tmpl, ct, code, body)
				}
				if code, body := sendDocumented(t, s, method, tmpl, pathOf()+"?undocumented_param=1", ct); code != http.StatusBadRequest || !strings.Contains(body, "undocumented_param") {
					t.Errorf("%s %s with an undocumented query parameter: %d %s, want 400 naming it", method, tmpl, code, body)
				}
			}
			if op.RequestBody != nil {
				if _, ok := op.RequestBody.Content["text/plain"]; !ok {
					if code, body := sendRaw(t, s, method, pathOf(), "text/plain", "job_title=x"); code != http.StatusUnsupportedMediaType {
						t.Errorf("%s %s as text/plain: %d %s, want 415", method, tmpl, code, body)
					}
				}
			}
		}
		for _, m := range allMethods {
			if documented[m] {
				continue
			}
			if code, body := sendRaw(t, s, m, pathOf(), "application/json", "{}"); code != http.StatusMethodNotAllowed {
				t.Errorf("undocumented %s %s: %d %s, want 405", m, tmpl, code, body)
			}
		}
	}
}

// sendDocumented sends a valid request of the documented shape: for a
// PATCH, a one-field update (job_title) in the content type given.
func sendDocumented(t *testing.T, s *stack, method, tmpl, target, contentType string) (int, string) {
	t.Helper()
	switch {
	case method == http.MethodPost && strings.HasSuffix(tmpl, ":batchUpdate"):
		return sendRaw(t, s, method, target, contentType, batchBody)
	case method == http.MethodPost: // an operation's :cancel
		return sendRaw(t, s, method, target, contentType, "{}")
	case method != http.MethodPatch:
		return sendRaw(t, s, method, target, "", "")
	}
	procore := strings.HasPrefix(tmpl, "/rest/")
	switch {
	case contentType == "multipart/form-data":
		var b bytes.Buffer
		w := multipart.NewWriter(&b)
		_ = w.WriteField("user[job_title]", "Site Lead")
		_ = w.Close()
		return sendRaw(t, s, method, target, w.FormDataContentType(), b.String())
	case procore:
		return sendRaw(t, s, method, target, contentType, `{"user":{"job_title":"Site Lead"}}`)
	default:
		return sendRaw(t, s, method, target, contentType, `{"job_title":"Site Lead"}`)
	}
}

func sendRaw(t *testing.T, s *stack, method, target, contentType, body string) (int, string) {
	t.Helper()
	code, _, out := s.do(t, method, target, contentType, body)
	return code, fmt.Sprint(out)
}

// batchBody is a one-item batch: user 1001's job_title.
const batchBody = `{"requests":[{"id":1001,"user":{"job_title":"Site Lead"},"update_mask":"jobTitle"}]}`

// newDoneOperation submits a validate_only batch, whose operation is done
// at once, and returns its id (the {operation} of the routes).
func newDoneOperation(t *testing.T, s *stack) string {
	t.Helper()
	body := strings.Replace(batchBody, `"requests"`, `"validate_only":true,"requests"`, 1)
	code, _, out := s.do(t, http.MethodPost, "/v1/companies/8089/users:batchUpdate", "application/json", body)
	name, _ := out["name"].(string)
	id, ok := strings.CutPrefix(name, "operations/")
	if code != http.StatusOK || !ok || out["done"] != true {
		t.Fatalf("validate_only batch: %d %v", code, out)
	}
	return id
}
