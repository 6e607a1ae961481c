package main

import (
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/procore-directory/procore-directory/gen/descriptor"
	"github.com/procore-directory/procore-directory/gen/openapi"
)

// documents are the committed documents, as directoryd embeds them.
func documents(t *testing.T) map[string]object {
	t.Helper()
	docs := map[string]object{}
	for name, raw := range map[string][]byte{"v2": openapi.JSON, "v3": openapi.JSONv3} {
		var d object
		if err := json.Unmarshal(raw, &d); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		docs[name] = d
	}
	return docs
}

// refs collects every $ref in a document.
func refs(v any, into *[]string) {
	switch x := v.(type) {
	case object:
		for k, e := range x {
			if s, ok := e.(string); ok && k == "$ref" {
				*into = append(*into, s)
			}
			refs(e, into)
		}
	case list:
		for _, e := range x {
			refs(e, into)
		}
	}
}

// resolve follows a local JSON pointer.
func resolve(doc object, ref string) bool {
	cur := any(doc)
	for _, part := range strings.Split(strings.TrimPrefix(ref, "#/"), "/") {
		o, ok := cur.(object)
		if !ok {
			return false
		}
		if cur, ok = o[part]; !ok {
			return false
		}
	}
	return cur != nil
}

func params(t *testing.T, doc object, route, method string) map[string]object {
	t.Helper()
	op, err := at(doc, "paths", route, method)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]object{}
	ps, _ := op["parameters"].(list)
	for _, p := range ps {
		po := p.(object)
		out[po["name"].(string)+" in "+po["in"].(string)] = po
	}
	return out
}

func TestDocumentsDescribeTheGateway(t *testing.T) {
	for version, doc := range documents(t) {
		t.Run(version, func(t *testing.T) {
			var all []string
			refs(doc, &all)
			for _, r := range all {
				if !resolve(doc, r) {
					t.Errorf("$ref %s does not resolve", r)
				}
			}

			v1 := params(t, doc, v1Route, "patch")
			for name := range v1 {
				if strings.HasPrefix(name, "avatar.") {
					t.Errorf("PATCH %s documents %s: an avatar is not taken from the URL", v1Route, name)
				}
			}
			for _, route := range []string{v1Route, procoreRoute} {
				for _, want := range []string{"update_mask in query", "validate_only in query"} {
					if _, ok := params(t, doc, route, "patch")[want]; !ok {
						t.Errorf("PATCH %s: %s undocumented", route, want)
					}
				}
				if _, err := at(doc, "paths", route, "patch", "responses", "200", "headers", previewHeader); err != nil {
					t.Errorf("PATCH %s: the %s response header is undocumented", route, previewHeader)
				}
			}
			procore := params(t, doc, procoreRoute, "patch")
			for _, want := range []string{"company_id in path", "id in path", "run_configurable_validations in query"} {
				if _, ok := procore[want]; !ok {
					t.Errorf("PATCH %s: %s undocumented", procoreRoute, want)
				}
			}
			if _, ok := procore["body in body"]; version == "v2" && !ok {
				t.Errorf("PATCH %s: no body", procoreRoute)
			}
			if _, err := at(doc, "paths", procoreRoute, "get"); err != nil {
				t.Errorf("GET %s undocumented", procoreRoute)
			}

			schemas := []string{"definitions"}
			if version == "v3" {
				schemas = []string{"components", "schemas"}
			}
			props, err := at(doc, append(schemas, "ProcoreCompanyUser", "properties")...)
			if err != nil {
				t.Fatal(err)
			}
			for _, field := range []string{"id", "vendor_id", "business_phone_extension"} {
				if p := props[field].(object); p["type"] != "integer" {
					t.Errorf("ProcoreCompanyUser.%s: type %v, want integer (Procore's JSON numbers)", field, p["type"])
				}
			}
			nullable := "x-nullable"
			if version == "v3" {
				nullable = "nullable"
			}
			for _, field := range []string{"job_title", "vendor", "last_login_at"} {
				if p := props[field].(object); p[nullable] != true {
					t.Errorf("ProcoreCompanyUser.%s: not nullable, but Procore sends null", field)
				}
			}
		})
	}
}

func TestOpenAPI3DescribesBothProcoreBodies(t *testing.T) {
	content, err := at(documents(t)["v3"], "paths", procoreRoute, "patch", "requestBody", "content")
	if err != nil {
		t.Fatal(err)
	}
	var types []string
	for ct := range content {
		types = append(types, ct)
	}
	slices.Sort(types)
	if want := []string{"application/json", "multipart/form-data"}; !slices.Equal(types, want) {
		t.Errorf("content types %v, want %v", types, want)
	}
	form, err := at(documents(t)["v3"], "components", "schemas", "ProcoreCompanyUserForm", "properties")
	if err != nil {
		t.Fatal(err)
	}
	for _, part := range []string{"user[job_title]", "user[is_active]", "user[avatar]"} {
		if _, ok := form[part]; !ok {
			t.Errorf("multipart part %s undocumented", part)
		}
	}
	if _, ok := form["user[id]"]; ok {
		t.Errorf("multipart documents user[id], an output-only field")
	}
}

func TestSchemaV3(t *testing.T) {
	tests := []struct {
		name string
		in   any
		want any
	}{
		{"ref", object{"$ref": "#/definitions/A"}, object{"$ref": "#/components/schemas/A"}},
		{"ref with siblings", object{"$ref": "#/definitions/A", "type": "object", "description": "d", "x-nullable": true},
			object{"allOf": list{object{"$ref": "#/components/schemas/A"}}, "description": "d", "nullable": true}},
		{"nested", object{"type": "array", "items": object{"$ref": "#/definitions/B"}},
			object{"type": "array", "items": object{"$ref": "#/components/schemas/B"}}},
		{"a property named x-nullable is a name, not the keyword", object{"properties": object{"x-nullable": object{"type": "string"}}},
			object{"properties": object{"x-nullable": object{"type": "string"}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := schemaV3(tt.in); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("schemaV3(%v) = %v, want %v", tt.in, got, tt.want)
			}
		})
	}
}

// committedV2 is the committed Swagger document, decoded afresh, and the
// API of the committed descriptor set.
func committedV2(t *testing.T) (object, *api) {
	t.Helper()
	var doc object
	if err := json.Unmarshal(openapi.JSON, &doc); err != nil {
		t.Fatal(err)
	}
	a, err := loadAPI(descriptor.FileDescriptorSet)
	if err != nil {
		t.Fatal(err)
	}
	return doc, a
}

// TestFixV2Idempotent: fixing the committed (already fixed) document
// changes nothing, as generate.sh's "running it twice changes nothing"
// requires; the Procore route it wrote is recognised as its own.
func TestFixV2Idempotent(t *testing.T) {
	doc, a := committedV2(t)
	if err := fixV2(doc, a); err != nil {
		t.Fatal(err)
	}
	var want object
	if err := json.Unmarshal(openapi.JSON, &want); err != nil {
		t.Fatal(err)
	}
	got, _ := json.Marshal(doc)
	wantJSON, _ := json.Marshal(want)
	if string(got) != string(wantJSON) {
		t.Error("a second run of fixV2 changed the document")
	}
}

// TestFixV2RefusesAProcoreBinding: a proto binding of the Procore route
// (a generated operation there) stops the build, naming the route.
func TestFixV2RefusesAProcoreBinding(t *testing.T) {
	doc, a := committedV2(t)
	op, err := at(doc, "paths", procoreRoute, "patch")
	if err != nil {
		t.Fatal(err)
	}
	op["operationId"] = "DirectoryService_UpdateCompanyUser2" // what protoc-gen-openapiv2 names an additional binding
	err = fixV2(doc, a)
	if err == nil || !strings.Contains(err.Error(), procoreRoute) || !strings.Contains(err.Error(), "remove the binding") {
		t.Errorf("fixV2 = %v, want an error naming %s", err, procoreRoute)
	}
}
