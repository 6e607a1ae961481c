// Command openapi is the post-processing step of scripts/generate.sh: it
// makes the OpenAPI document that protoc-gen-openapiv2 writes tell the truth
// about the REST gateway, and derives the OpenAPI 3 document from it, so
// both versions come from the same proto annotations and comments.
//
// grpc-gateway's generator describes what its generated handlers would do;
// the gateway serves one route differently, and one it has no binding for,
// by hand-written Go:
//
//   - PATCH /v1/companies/{company_id}/users/{id}: every request field that
//     is not in the body becomes a query parameter, so the avatar (bytes in
//     a URL) appeared as three required query parameters, and the field mask
//     it infers from the body was not documented as `?update_mask=`;
//   - /rest/v1.3/companies/{company_id}/users/{id}: Procore's own request
//     (`{"user": {...}}` in JSON, or multipart `user[...]` fields) and
//     response (integers as numbers, null for empty values), PATCH and GET.
//     The proto has no HTTP binding for it (service/gateway/procore.go
//     serves it), so this script writes its whole description, and fails
//     if a binding comes back.
//
// Run it from the repository root after `buf generate` and `buf build`:
//
//	go run ./scripts/openapi -swagger gen/openapi/directory.swagger.json \
//	    -descriptors gen/descriptor/directory.binpb -openapi3 gen/openapi/directory.openapi.json
//
// It rewrites the -swagger file in place (running it twice changes nothing)
// and writes the -openapi3 file. It reads the API from the descriptor set,
// never from this module's Go packages, so it must not import gen/procore,
// service or upstream: it runs while those may not compile.
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"log/slog"
	"os"
)

func main() {
	swagger := flag.String("swagger", "gen/openapi/directory.swagger.json", "the OpenAPI v2 document protoc-gen-openapiv2 wrote; rewritten in place")
	descriptors := flag.String("descriptors", "gen/descriptor/directory.binpb", "the FileDescriptorSet of proto/, with source comments")
	openapi3 := flag.String("openapi3", "gen/openapi/directory.openapi.json", "where to write the OpenAPI 3 document")
	flag.Parse()
	if err := run(*swagger, *descriptors, *openapi3); err != nil {
		slog.Error("openapi", "err", err)
		os.Exit(1)
	}
}

// run reads both inputs, fixes the v2 document, converts it and writes both.
func run(swaggerPath, descriptorsPath, openapi3Path string) error {
	raw, err := os.ReadFile(swaggerPath)
	if err != nil {
		return fmt.Errorf("read: %w", err)
	}
	var v2 object
	if err := json.Unmarshal(raw, &v2); err != nil {
		return fmt.Errorf("%s: %w", swaggerPath, err)
	}
	set, err := os.ReadFile(descriptorsPath)
	if err != nil {
		return fmt.Errorf("read: %w", err)
	}
	api, err := loadAPI(set)
	if err != nil {
		return fmt.Errorf("%s: %w", descriptorsPath, err)
	}
	if err := expandResourcePaths(v2); err != nil {
		return fmt.Errorf("%s: %w", swaggerPath, err)
	}
	if err := fixV2(v2, api); err != nil {
		return fmt.Errorf("%s: %w", swaggerPath, err)
	}
	v3, err := toV3(v2)
	if err != nil {
		return fmt.Errorf("openapi 3: %w", err)
	}
	if err := addMultipart(v3, api); err != nil {
		return fmt.Errorf("openapi 3: %w", err)
	}
	if err := write(swaggerPath, v2); err != nil {
		return err
	}
	return write(openapi3Path, v3)
}

// write writes a document as indented JSON with a final newline. Object
// keys come out sorted, so the output is the same on every run.
func write(path string, doc object) error {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		return fmt.Errorf("write: %w", err)
	}
	return nil
}
