package procoretest

import (
	"encoding/json"
	"net/http"
	"strings"
)

// flatError is what an application 400, 401 or 403 means, kept beside its
// Rails body so that ErrorBodyFlat can answer the same refusal in the
// published shape {"code", "message", "fields", "reason", "error"} without
// each handler knowing which body the emulator was asked to send.
type flatError struct {
	message string
	fields  []string
	reason  string
}

// Reasons of the flat error body: stable, machine-readable words, as the
// published shape's "reason" suggests. (modelled)
const (
	reasonMissingCompanyHeader  = "missing_company_header"
	reasonCompanyMismatch       = "company_mismatch"
	reasonAppNotConnected       = "app_not_connected"
	reasonInvalidToken          = "invalid_token"
	reasonInvalidJSON           = "invalid_json"
	reasonInvalidForm           = "invalid_form"
	reasonMissingParameter      = "missing_parameter"
	reasonMissingRequiredFields = "missing_required_fields"
	reasonAdminOnlyField        = "admin_only_field"
	// Sync (modelled like the rest).
	reasonDirectoryAdminRequired = "directory_admin_required"
	reasonInvalidUpdates         = "invalid_updates"
	reasonTooManyItems           = "too_many_items"
)

// withFlat attaches the flat meaning to a Rails reply and returns it.
func withFlat(rep *reply, reason, message string, fields ...string) *reply {
	rep.flat = &flatError{message: message, fields: fields, reason: reason}
	return rep
}

// flatten returns rep with its body in the published flat shape when it
// carries a flat meaning; headers (WWW-Authenticate, rate limits) are kept.
func flatten(rep *reply) *reply {
	if rep.flat == nil {
		return rep
	}
	b, err := json.Marshal(struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
		Fields  string `json:"fields"`
		Reason  string `json:"reason"`
		Error   string `json:"error"`
	}{
		Code:    rep.status,
		Message: rep.flat.message,
		Fields:  strings.Join(rep.flat.fields, ","),
		Reason:  rep.flat.reason,
		Error:   http.StatusText(rep.status),
	})
	if err != nil { // strings and an int always marshal
		return rep
	}
	out := jsonReply(rep.status, b)
	for k, v := range rep.hdr {
		if k != "Content-Type" {
			out.header()[k] = v
		}
	}
	return out
}
