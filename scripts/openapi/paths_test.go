package main

import (
	"encoding/json"
	"testing"
)

// TestExpandResourcePaths checks the rewrite of operations.proto's routes
// as protoc-gen-openapiv2 renders them into the URLs the gateway routes.
func TestExpandResourcePaths(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    string
		wantErr bool
	}{
		{
			name: "get list delete cancel",
			in: `{"paths": {
				"/v1/{name}": {
					"get": {"parameters": [{"name": "name", "in": "path", "pattern": "operations", "required": true, "type": "string"}, {"name": "filter", "in": "query"}]},
					"delete": {"parameters": [{"name": "name", "in": "path", "pattern": "operations/.+", "description": "The name."}]}
				},
				"/v1/{name_1}": {"get": {"parameters": [{"name": "name_1", "in": "path", "pattern": "operations/.+"}]}},
				"/v1/{name}:cancel": {"post": {"parameters": [{"name": "name", "in": "path", "pattern": "operations/.+"}, {"name": "body", "in": "body"}]}},
				"/v1/companies/{company_id}": {"get": {"parameters": [{"name": "company_id", "in": "path"}]}}
			}}`,
			want: `{"paths": {
				"/v1/operations": {"get": {"parameters": [{"name": "filter", "in": "query"}]}},
				"/v1/operations/{operation}": {
					"delete": {"parameters": [{"name": "operation", "in": "path", "required": true, "type": "string", "description": "The name. In the path: the last segment of ` + "`operations/{operation}`" + `."}]},
					"get": {"parameters": [{"name": "operation", "in": "path", "required": true, "type": "string", "description": "In the path: the last segment of ` + "`operations/{operation}`" + `."}]}
				},
				"/v1/operations/{operation}:cancel": {"post": {"parameters": [{"name": "operation", "in": "path", "required": true, "type": "string", "description": "In the path: the last segment of ` + "`operations/{operation}`" + `."}, {"name": "body", "in": "body"}]}},
				"/v1/companies/{company_id}": {"get": {"parameters": [{"name": "company_id", "in": "path"}]}}
			}}`,
		},
		{
			name:    "two routes expand to one",
			in:      `{"paths": {"/v1/{a}": {"get": {"parameters": [{"name": "a", "in": "path", "pattern": "operations"}]}}, "/v1/operations": {"get": {}}}}`,
			wantErr: true,
		},
		{
			name:    "wildcard first",
			in:      `{"paths": {"/v1/{a}": {"get": {"parameters": [{"name": "a", "in": "path", "pattern": ".+"}]}}}}`,
			wantErr: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var doc object
			if err := json.Unmarshal([]byte(tt.in), &doc); err != nil {
				t.Fatal(err)
			}
			err := expandResourcePaths(doc)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, want error %v", err, tt.wantErr)
			}
			if tt.wantErr {
				return
			}
			var want object
			if err := json.Unmarshal([]byte(tt.want), &want); err != nil {
				t.Fatal(err)
			}
			got, _ := json.Marshal(doc)
			wantJSON, _ := json.Marshal(want)
			if string(got) != string(wantJSON) {
				t.Errorf("got  %s\nwant %s", got, wantJSON)
			}
		})
	}
}
