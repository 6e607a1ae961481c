package main

import (
	"fmt"
	"strings"

	"google.golang.org/protobuf/reflect/protoreflect"
)

// openapi3Version is the OpenAPI version of the converted document: 3.0,
// which current tools (openapi-typescript, swagger-client, Redocly) read.
const openapi3Version = "3.0.3"

// toV3 converts the (fixed) Swagger 2.0 document to OpenAPI 3.0. It covers
// what this document uses, and fails on anything else rather than dropping
// it: path, query and body parameters, JSON responses, schemas,
// apiKey security.
func toV3(v2 object) (object, error) {
	consumes := strings2(v2["consumes"])
	produces := strings2(v2["produces"])
	paths, err := at(v2, "paths")
	if err != nil {
		return nil, err
	}
	outPaths := object{}
	for route, item := range paths {
		ops, ok := item.(object)
		if !ok {
			return nil, &shapeError{path: []string{"paths", route}}
		}
		outOps := object{}
		for method, op := range ops {
			o, ok := op.(object)
			if !ok {
				return nil, &shapeError{path: []string{"paths", route, method}}
			}
			conv, err := operationV3(o, consumes, produces)
			if err != nil {
				return nil, fmt.Errorf("%s %s: %w", strings.ToUpper(method), route, err)
			}
			outOps[method] = conv
		}
		outPaths[route] = outOps
	}
	defs, err := at(v2, "definitions")
	if err != nil {
		return nil, err
	}
	schemas := object{}
	for name, s := range defs {
		schemas[name] = schemaV3(s)
	}
	components := object{"schemas": schemas}
	if sec, ok := v2["securityDefinitions"].(object); ok {
		schemes := object{}
		for name, s := range sec {
			so, _ := s.(object)
			if so["type"] != "apiKey" {
				return nil, fmt.Errorf("security scheme %s: type %v not converted", name, so["type"])
			}
			schemes[name] = copyObject(so)
		}
		components["securitySchemes"] = schemes
	}
	out := object{
		"openapi":    openapi3Version,
		"info":       v2["info"],
		"paths":      outPaths,
		"components": components,
	}
	for _, k := range []string{"tags", "security"} {
		if v, ok := v2[k]; ok {
			out[k] = v
		}
	}
	return out, nil
}

// operationV3 converts one operation.
func operationV3(op object, consumes, produces []string) (object, error) {
	out := object{}
	for _, k := range []string{"operationId", "summary", "description", "tags", "security", "deprecated"} {
		if v, ok := op[k]; ok {
			out[k] = v
		}
	}
	if c, ok := op["consumes"]; ok {
		consumes = strings2(c)
	}
	if p, ok := op["produces"]; ok {
		produces = strings2(p)
	}
	var params list
	params2, _ := op["parameters"].(list)
	for _, p := range params2 {
		po, _ := p.(object)
		switch po["in"] {
		case "path", "query", "header":
			q := object{"name": po["name"], "in": po["in"]}
			for _, k := range []string{"description", "required"} {
				if v, ok := po[k]; ok {
					q[k] = v
				}
			}
			schema := object{}
			for _, k := range []string{"type", "format", "items", "enum", "default", "pattern", "minimum", "maximum"} {
				if v, ok := po[k]; ok {
					schema[k] = schemaV3(v)
				}
			}
			if po["collectionFormat"] == "multi" {
				q["style"], q["explode"] = "form", true
			} else if _, ok := po["collectionFormat"]; ok {
				return nil, fmt.Errorf("parameter %v: collectionFormat %v not converted", po["name"], po["collectionFormat"])
			}
			q["schema"] = schema
			params = append(params, q)
		case "body":
			content := object{}
			for _, ct := range consumes {
				content[ct] = object{"schema": schemaV3(po["schema"])}
			}
			body := object{"content": content}
			if v, ok := po["required"]; ok {
				body["required"] = v
			}
			if v, ok := po["description"]; ok {
				body["description"] = v
			}
			out["requestBody"] = body
		default:
			return nil, fmt.Errorf("parameter %v: in %v not converted", po["name"], po["in"])
		}
	}
	if len(params) > 0 {
		out["parameters"] = params
	}
	responses, ok := op["responses"].(object)
	if !ok {
		return nil, &shapeError{path: []string{"responses"}}
	}
	outResponses := object{}
	for code, r := range responses {
		ro, _ := r.(object)
		resp := object{"description": ro["description"]}
		if s, ok := ro["schema"]; ok {
			content := object{}
			for _, ct := range produces {
				content[ct] = object{"schema": schemaV3(s)}
			}
			resp["content"] = content
		}
		if h, ok := ro["headers"].(object); ok {
			headers := object{}
			for name, hv := range h {
				ho, _ := hv.(object)
				header := object{"schema": object{"type": ho["type"]}}
				if d, ok := ho["description"]; ok {
					header["description"] = d
				}
				headers[name] = header
			}
			resp["headers"] = headers
		}
		outResponses[code] = resp
	}
	out["responses"] = outResponses
	return out, nil
}

// schemaV3 converts a Swagger 2.0 schema: references move to
// components/schemas, x-nullable becomes nullable, and a reference with
// sibling keywords (which OpenAPI 3.0 ignores) becomes allOf, so its
// description, readOnly and nullable survive.
func schemaV3(v any) any {
	switch s := v.(type) {
	case object:
		out := object{}
		for k, val := range s {
			switch k {
			case "$ref":
				out[k] = strings.Replace(val.(string), "#/definitions/", "#/components/schemas/", 1)
			case "x-nullable":
				out["nullable"] = val
			case "properties":
				props := object{}
				for name, p := range val.(object) {
					props[name] = schemaV3(p)
				}
				out[k] = props
			default:
				out[k] = schemaV3(val)
			}
		}
		if ref, ok := out["$ref"]; ok && len(out) > 1 {
			delete(out, "$ref")
			delete(out, "type") // the referenced schema has it
			out["allOf"] = list{object{"$ref": ref}}
		}
		return out
	case list:
		out := make(list, len(s))
		for i, e := range s {
			out[i] = schemaV3(e)
		}
		return out
	default:
		return v
	}
}

// addMultipart adds the Procore route's second body, which Swagger 2.0
// cannot express: multipart/form-data with `user[<field>]` parts and a
// `user[avatar]` file, as service/gateway/procore_decode.go decodes it.
func addMultipart(v3 object, a *api) error {
	content, err := at(v3, "paths", procoreRoute, "patch", "requestBody", "content")
	if err != nil {
		return err
	}
	schemas, err := at(v3, "components", "schemas")
	if err != nil {
		return err
	}
	props := object{}
	for _, fd := range a.writableFields() {
		p := object{"type": "string", "description": comment(fd)}
		switch fd.Kind() {
		case protoreflect.Int64Kind:
			p["pattern"] = "^-?[0-9]*$"
			p["description"] = comment(fd) + " A decimal integer; empty clears it."
		case protoreflect.BoolKind:
			p["enum"] = list{"true", "false", ""}
			p["description"] = comment(fd) + " `true` or `false`; empty clears it."
		default:
			p["description"] = comment(fd) + " Empty clears it."
		}
		props["user["+string(fd.Name())+"]"] = p
	}
	props["user[avatar]"] = object{
		"type":        "string",
		"format":      "binary",
		"description": "A new avatar image: JPEG, PNG or GIF, at most 10 MiB; the bytes must agree with the part's Content-Type.",
	}
	schemas["ProcoreCompanyUserForm"] = object{
		"type": "object",
		"description": "Procore's multipart Update Company User body: one part per field to change, " +
			"and optionally the avatar file. Without `update_mask`, the fields to change are the parts sent.",
		"properties":           props,
		"additionalProperties": false,
	}
	content["multipart/form-data"] = object{
		"schema":   object{"$ref": "#/components/schemas/ProcoreCompanyUserForm"},
		"encoding": object{"user[avatar]": object{"contentType": "image/jpeg, image/png, image/gif"}},
	}
	return nil
}

// strings2 reads a JSON array of strings.
func strings2(v any) []string {
	l, _ := v.(list)
	out := make([]string, 0, len(l))
	for _, e := range l {
		if s, ok := e.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

// copyObject is a shallow copy.
func copyObject(o object) object {
	out := make(object, len(o))
	for k, v := range o {
		out[k] = v
	}
	return out
}
