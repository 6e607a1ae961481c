package main

import (
	"fmt"
	"strings"
)

// The REST routes the gateway serves (service/gateway).
const (
	v1Route      = "/v1/companies/{company_id}/users/{id}"
	procoreRoute = "/rest/v1.3/companies/{company_id}/users/{id}"
	procoreTag   = "Procore-compatible"
)

// updateMaskParam documents the mask the /v1 PATCH otherwise infers; the
// generator hides it because the body is `user` (see the proto's comment
// on update_mask).
func updateMaskParam() object {
	return object{
		"name": "update_mask",
		"in":   "query",
		"type": "string",
		"description": "The fields to change: proto field names separated by commas, for example `job_title,city`, " +
			"or `*` for every writable field (those not in the body are cleared). A masked field not in the body is cleared. " +
			"Absent: the fields present in the body.",
		"required": false,
	}
}

// idempotencyKeyParam documents the header the gateway takes as the
// request's request_id (AIP-155), the usual spelling of HTTP clients.
func idempotencyKeyParam() object {
	return object{
		"name": "Idempotency-Key",
		"in":   "header",
		"type": "string",
		"description": "A UUID that makes the update idempotent, as `request_id`: a retry with the same key and the same request " +
			"gets the first call's answer without a second PATCH. Give it or `request_id`, not two different values.",
		"required": false,
	}
}

// fixV2 rewrites the generated Swagger 2.0 document to describe what the
// gateway really serves.
func fixV2(doc object, a *api) error {
	defs, err := at(doc, "definitions")
	if err != nil {
		return err
	}
	v1Patch, err := at(doc, "paths", v1Route, "patch")
	if err != nil {
		return err
	}
	params, ok := v1Patch["parameters"].(list)
	if !ok {
		return &shapeError{path: []string{"paths", v1Route, "patch", "parameters"}}
	}
	runValidations, requestID, validateOnly := object{}, object{}, object{}
	var kept list
	for _, p := range params {
		po, _ := p.(object)
		name, _ := po["name"].(string)
		switch {
		case strings.HasPrefix(name, "avatar."):
			// An avatar is not taken from the URL: it goes as multipart on
			// the Procore-compatible route.
		case name == "update_mask", name == "Idempotency-Key":
			// Added below (a second run finds them there).
		case name == "run_configurable_validations":
			runValidations = po
			kept = append(kept, p)
		case name == "request_id":
			requestID = po
			kept = append(kept, p)
		case name == "validate_only":
			validateOnly = po
			kept = append(kept, p)
		default:
			kept = append(kept, p)
		}
	}
	if runValidations["in"] != "query" {
		return fmt.Errorf("%s: no run_configurable_validations query parameter", v1Route)
	}
	if requestID["in"] != "query" {
		return fmt.Errorf("%s: no request_id query parameter", v1Route)
	}
	if validateOnly["in"] != "query" {
		return fmt.Errorf("%s: no validate_only query parameter", v1Route)
	}
	v1Patch["parameters"] = append(kept, updateMaskParam(), idempotencyKeyParam())
	if err := addPreviewHeader(v1Patch); err != nil {
		return err
	}

	// The Procore-compatible route, as service/gateway/procore.go serves it.
	// The proto has no HTTP binding for it (the gateway would have to
	// override the generated handler), so the generator says nothing of it
	// and this document describes it whole.
	paths, err := at(doc, "paths")
	if err != nil {
		return err
	}
	if err := refuseProcoreBinding(paths); err != nil {
		return err
	}
	if err := procoreSchemas(a.user, defs); err != nil {
		return err
	}
	defs["ProcoreCompanyUserUpdate"] = procoreUserUpdate(a, defs)
	procoreErrorSchemas(defs)
	defs["ProcoreUpdateCompanyUserBody"] = object{
		"type":                 "object",
		"description":          "Procore's Update Company User body.",
		"properties":           object{"user": object{"$ref": "#/definitions/ProcoreCompanyUserUpdate"}},
		"required":             list{"user"},
		"additionalProperties": false,
	}
	paths[procoreRoute] = object{
		"get":   procoreShow(),
		"patch": procoreUpdate(runValidations, requestID, validateOnly),
	}
	addTag(doc, procoreTag, "Procore's own routes, requests and responses (Procore API v1.3, Core > Directory): "+
		"a caller of Procore only changes its base URL.")
	return nil
}

// refuseProcoreBinding fails when the generator documented the
// Procore-compatible route, which it does only for a proto binding: the
// route is served by hand and documented here (operations named
// Procore_*, which a second run finds and keeps).
func refuseProcoreBinding(paths object) error {
	item, _ := paths[procoreRoute].(object)
	for method, op := range item {
		o, _ := op.(object)
		if id, _ := o["operationId"].(string); !strings.HasPrefix(id, "Procore_") {
			return fmt.Errorf("%s %s: the proto binds the Procore-compatible route (operation %q); "+
				"service/gateway/procore.go serves it and scripts/openapi documents it: remove the binding", strings.ToUpper(method), procoreRoute, id)
		}
	}
	return nil
}

// procoreUserUpdate is the `user` object of an update: the writable fields,
// each nullable (null clears it), nothing else.
func procoreUserUpdate(a *api, defs object) object {
	full, _ := at(defs, procoreSchemaName(a.user), "properties")
	props := object{}
	for _, fd := range a.writableFields() {
		src, _ := full[string(fd.Name())].(object)
		props[string(fd.Name())] = copyObject(src)
	}
	return object{
		"type": "object",
		"description": "The fields to change, under Procore's names. Integers are JSON numbers (decimal strings are accepted too), " +
			"and `null` clears a field. `last_name` and `email_address` cannot be cleared.",
		"properties":           props,
		"additionalProperties": false,
	}
}

// procorePathParams are the route's path parameters: integers, as Procore
// documents them.
func procorePathParams() list {
	return list{
		object{"name": "company_id", "in": "path", "required": true, "type": "integer", "format": "int64", "description": "The Procore company that owns the directory."},
		object{"name": "id", "in": "path", "required": true, "type": "integer", "format": "int64", "description": "The company user's Procore id."},
	}
}

// procoreResponses are a Procore-shaped user, or an error in Procore's
// shapes (procore_errors.go).
func procoreResponses(what string, update bool) object {
	responses := object{
		"200": object{
			"description": what + ", as Procore renders it: every field present, integers as JSON numbers, `null` for empty values.",
			"schema":      object{"$ref": "#/definitions/ProcoreCompanyUser"},
		},
	}
	procoreErrorResponses(responses, update)
	return responses
}

func procoreShow() object {
	return object{
		"operationId": "Procore_ShowCompanyUser",
		"summary":     "Returns one company user as Procore's Show Company User does.",
		"description": "The same read as `GET " + v1Route + "`, answered in Procore's JSON, so a Procore SDK caller " +
			"that changed its base URL can read as well as write.",
		"parameters": procorePathParams(),
		"responses":  procoreResponses("The user", false),
		"tags":       list{procoreTag},
	}
}

func procoreUpdate(runValidations, requestID, validateOnly object) object {
	op := object{
		"operationId": "Procore_UpdateCompanyUser",
		"summary":     "Updates a company user as Procore's Update Company User does.",
		"description": "Procore's own request, answered as Procore answers it, so a caller of Procore only changes its base URL.\n\n" +
			"The body is either JSON, `{\"user\": {...}}`, or `multipart/form-data` with one `user[<field>]` part per field " +
			"(integers in decimal, booleans `true` or `false`, an empty value clears the field) and optionally a `user[avatar]` " +
			"file (JPEG, PNG or GIF, at most 10 MiB). Swagger 2.0 cannot describe two bodies for one operation: this document " +
			"shows the JSON one, the OpenAPI 3 document both.\n\n" +
			"Without `update_mask`, the fields to change are the fields the body names; a field sent as `null` " +
			"(or an empty form value) is cleared.",
		"consumes": list{"application/json"},
		"parameters": append(procorePathParams(),
			runValidations,
			updateMaskParam(),
			requestID,
			validateOnly,
			idempotencyKeyParam(),
			object{"name": "body", "in": "body", "required": true, "schema": object{"$ref": "#/definitions/ProcoreUpdateCompanyUserBody"}},
		),
		"responses": procoreResponses("The updated user", true),
		"tags":      list{procoreTag},
	}
	_ = addPreviewHeader(op) // procoreResponses has a 200
	return op
}

// previewHeader is the response header of a `?validate_only=true` update
// (apierr.ProcoreRequestHeader), documented on both PATCH routes.
const previewHeader = "X-Procore-Request"

// addPreviewHeader documents the header on an operation's 200 response.
func addPreviewHeader(op object) error {
	ok, err := at(op, "responses", "200")
	if err != nil {
		return err
	}
	headers, _ := ok["headers"].(object)
	if headers == nil {
		headers = object{}
	}
	headers[previewHeader] = object{
		"type": "string",
		"description": "Only with `validate_only=true`: the request the update would send Procore, as JSON (non-ASCII escaped): " +
			"`{\"request\": {\"method\", \"path\", \"query\", \"company_id\", \"content_type\", \"body\" or \"form\"}, " +
			"\"if_refused\": {...}, \"note\": \"...\"}`; `request` is null when the update writes nothing. Nothing was sent.",
	}
	ok["headers"] = headers
	return nil
}

// addTag adds a top-level tag unless it is there.
func addTag(doc object, name, description string) {
	tags, _ := doc["tags"].(list)
	for _, t := range tags {
		if to, _ := t.(object); to["name"] == name {
			return
		}
	}
	doc["tags"] = append(tags, object{"name": name, "description": description})
}
