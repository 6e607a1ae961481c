package main

// The Procore-compatible route's errors, as service/gateway/procore_errors.go
// answers them: Procore's statuses and body shapes, an answer Procore gave
// passed through, and the service's reason in a header. The two change
// together.

// reasonHeader is gateway.ErrorReasonHeader.
const reasonHeader = "X-Directoryd-Reason"

// procoreErrorSchemas adds the error bodies' schemas to defs.
func procoreErrorSchemas(defs object) {
	defs["ProcoreError"] = object{
		"type": "object",
		"description": "Procore's error body: `{\"errors\": \"<message>\"}`, or, for field errors, " +
			"`{\"errors\": {\"<field>\": [\"<message>\", ...]}}`. An error Procore itself answered comes back as Procore sent it " +
			"(redacted: e-mail addresses, phone numbers and tokens masked), in any of Procore's shapes, such as its flat " +
			"`{\"code\", \"message\", \"fields\", \"reason\", \"error\"}` or plain text.",
		"properties": object{
			"errors": object{"description": "A message (string), or an object mapping each refused field to its messages."},
		},
	}
	defs["ProcoreFieldErrors"] = object{
		"type":        "object",
		"description": "Procore's validation errors: one entry per refused field (under Procore's name, e.g. `email_address`; the avatar's is `avatar`), each a list of messages.",
		"properties": object{
			"errors": object{
				"type":                 "object",
				"additionalProperties": object{"type": "array", "items": object{"type": "string"}},
			},
		},
		"required": list{"errors"},
	}
	defs["ProcoreUnauthorized"] = object{
		"type":        "object",
		"description": "Procore's OAuth error: missing, unknown or expired credentials.",
		"properties": object{
			"error":             object{"type": "string", "description": "`invalid_token`."},
			"error_description": object{"type": "string"},
		},
		"required": list{"error", "error_description"},
	}
}

// procoreErrorResponses adds the route's error answers, by status, to an
// operation's responses; update says the operation is the PATCH (a body
// to refuse: 415, 422).
func procoreErrorResponses(responses object, update bool) {
	errorHeaders := func(extra object) object {
		h := object{
			"X-Request-Id": object{"type": "string", "description": "The request's id (the caller's, when it sent a valid one), for support."},
			reasonHeader: object{"type": "string", "description": "The service's google.rpc.ErrorInfo reason (docs/api.md), e.g. " +
				"`INVALID_REQUEST`, `UPSTREAM_VALIDATION_FAILED`: the richer answer /v1 gives in its body."},
		}
		for k, v := range extra {
			h[k] = v
		}
		return h
	}
	retryAfter := object{"Retry-After": object{"type": "integer", "description": "Seconds to wait before retrying."}}
	ref := func(name string) object { return object{"$ref": "#/definitions/" + name} }
	add := func(status, description, schema string, extra object) {
		responses[status] = object{"description": description, "schema": ref(schema), "headers": errorHeaders(extra)}
	}
	add("400", "Malformed input (bad JSON or form, a duplicate key or field, an unknown field or query parameter, a path "+
		"parameter that is not an integer, a request-level value such as `update_mask`): `{\"errors\": \"<message>\"}`. "+
		"Or Procore's own 400, passed through.", "ProcoreError", nil)
	add("401", "Missing credentials (no `Authorization: Bearer` token in pass-through mode, no verified client certificate): "+
		"`{\"error\": \"invalid_token\", \"error_description\": \"...\"}` with `WWW-Authenticate`. Or Procore's own 401, passed through.",
		"ProcoreUnauthorized", object{"WWW-Authenticate": object{"type": "string"}})
	add("403", "A policy refusal (the caller or the company is not allowed, an admin-only field without directory-admin rights): "+
		"`{\"errors\": \"<message>\"}`. Or Procore's own 403, passed through.", "ProcoreError", nil)
	add("404", "No such company or user: Procore's `{\"errors\": \"Not Found\"}`, passed through.", "ProcoreError", nil)
	add("405", "A method the route does not serve: `{\"errors\": \"<message>\"}` with `Allow`.", "ProcoreError",
		object{"Allow": object{"type": "string"}})
	if update {
		add("415", "A body that is neither `application/json` nor `multipart/form-data`: `{\"errors\": \"<message>\"}`.", "ProcoreError", nil)
		add("422", "Field values refused, by the service's validation or by Procore (passed through): "+
			"`{\"errors\": {\"<field>\": [\"<message>\"]}}`, one entry per field.", "ProcoreFieldErrors", nil)
	}
	add("429", "The Procore rate limit is spent (the service's own budget, until after the caller's deadline: "+
		"`{\"errors\": \"<message>\"}`), or Procore's own 429 passed through (plain text).", "ProcoreError", retryAfter)
	add("502", "Procore's answer could not be used (unreadable, or a redirect, which is never followed): `{\"errors\": \"<message>\"}`. "+
		"Or a 502 Procore (or a proxy before it) answered, passed through: the update's outcome is unknown.", "ProcoreError", nil)
	add("503", "Nothing was applied and a retry is safe: the service is overloaded or stopping, Procore is unreachable or its "+
		"circuit is open, or a lost update was read back and found not applied: `{\"errors\": \"<message>\"}`. "+
		"Or Procore's own 503, passed through.", "ProcoreError", retryAfter)
	add("504", "The update's outcome is unknown (Procore's answer was lost) or the caller's deadline ran out: "+
		"`{\"errors\": \"<message>\"}`; read the user back before retrying. Or a 504 Procore answered, passed through.", "ProcoreError", nil)
	add("default", "Any other error: the service's own (`{\"errors\": \"<message>\"}`, e.g. 500), or the status and body Procore answered "+
		"(e.g. 409, 500), passed through.", "ProcoreError", nil)
}
