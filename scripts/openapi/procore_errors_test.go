package main

import (
	"strings"
	"testing"
)

// TestProcoreRouteDocumentsItsErrors: both documents describe the
// Procore-compatible route's errors in Procore's shapes (not
// google.rpc.Status), each with the reason and request id headers.
func TestProcoreRouteDocumentsItsErrors(t *testing.T) {
	want := map[string]map[string]string{ // method -> status -> schema
		"get": {"400": "ProcoreError", "401": "ProcoreUnauthorized", "403": "ProcoreError", "404": "ProcoreError",
			"429": "ProcoreError", "503": "ProcoreError", "504": "ProcoreError", "default": "ProcoreError"},
		"patch": {"400": "ProcoreError", "401": "ProcoreUnauthorized", "403": "ProcoreError", "404": "ProcoreError", "415": "ProcoreError",
			"422": "ProcoreFieldErrors", "429": "ProcoreError", "503": "ProcoreError", "504": "ProcoreError", "default": "ProcoreError"},
	}
	for name, doc := range documents(t) {
		for method, statuses := range want {
			responses, err := at(doc, "paths", procoreRoute, method, "responses")
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			for status, schema := range statuses {
				r, _ := responses[status].(object)
				if r == nil {
					t.Errorf("%s %s: no %s response", name, method, status)
					continue
				}
				var got []string
				refs(r, &got)
				if len(got) != 1 || !strings.HasSuffix(got[0], "/"+schema) {
					t.Errorf("%s %s %s: schema %v, want %s", name, method, status, got, schema)
				}
				headers, _ := r["headers"].(object)
				for _, h := range []string{"X-Request-Id", reasonHeader} {
					if headers[h] == nil {
						t.Errorf("%s %s %s: no %s header", name, method, status, h)
					}
				}
			}
			if _, ok := responses["422"]; ok && method == "get" {
				t.Errorf("%s: GET documents a 422", name)
			}
		}
	}
}
