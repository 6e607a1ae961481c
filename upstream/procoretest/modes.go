package procoretest

import "fmt"

// AdminFields is how the emulator reads the published rule on the four
// Directory-Admin-only fields, which can be read two ways (CONTRACT.md): the
// client must be testable against both.
type AdminFields string

const (
	// AdminFieldsChanged (the default) rejects, for a client without
	// Directory Admin, only a value different from the stored one, so the
	// required email_address can be sent back unchanged.
	AdminFieldsChanged AdminFields = "changed"
	// AdminFieldsIncluded rejects any request that includes one of the
	// fields, even unchanged, as the published text says literally; a
	// non-admin can then only update with partial bodies accepted.
	AdminFieldsIncluded AdminFields = "included"
)

// ResponseShape selects which fields the update and show 200s carry.
type ResponseShape string

const (
	// ResponseShapePublished (the default) follows Procore's published
	// OpenAPI: contact_id, business_id, is_insurance_manager (show also role
	// and verified_employee), and no vendor_id, permission_template,
	// company_permission_template or welcome_email_sent_at, so a client is
	// tested against the fields it can really count on.
	ResponseShapePublished ResponseShape = "published"
	// ResponseShapeExtended renders every stored attribute (the emulator's
	// original shape), for tests that read fields the published schema lacks.
	ResponseShapeExtended ResponseShape = "extended"
)

// ErrorBody selects the body of the application's 400, 401 and 403 answers;
// Procore documents one shape and sends others, and a client must parse both.
type ErrorBody string

const (
	// ErrorBodyRails (the default) answers as a Rails app does: {"errors":
	// ...}, the OAuth {"error": "invalid_token", ...}, or plain text.
	ErrorBodyRails ErrorBody = "rails"
	// ErrorBodyFlat answers with the published flat object
	// {"code", "message", "fields", "reason", "error"}.
	ErrorBodyFlat ErrorBody = "flat"
)

// MarshalText makes AdminFields usable with flag.TextVar.
func (m AdminFields) MarshalText() ([]byte, error) { return []byte(m), nil }

// UnmarshalText parses "changed" or "included" (flag.TextVar).
func (m *AdminFields) UnmarshalText(b []byte) error {
	switch v := AdminFields(b); v {
	case AdminFieldsChanged, AdminFieldsIncluded:
		*m = v
		return nil
	}
	return fmt.Errorf("admin fields %q: want %q or %q", b, AdminFieldsChanged, AdminFieldsIncluded)
}

// MarshalText makes ResponseShape usable with flag.TextVar.
func (s ResponseShape) MarshalText() ([]byte, error) { return []byte(s), nil }

// UnmarshalText parses "published" or "extended" (flag.TextVar).
func (s *ResponseShape) UnmarshalText(b []byte) error {
	switch v := ResponseShape(b); v {
	case ResponseShapePublished, ResponseShapeExtended:
		*s = v
		return nil
	}
	return fmt.Errorf("response shape %q: want %q or %q", b, ResponseShapePublished, ResponseShapeExtended)
}

// MarshalText makes ErrorBody usable with flag.TextVar.
func (b ErrorBody) MarshalText() ([]byte, error) { return []byte(b), nil }

// UnmarshalText parses "rails" or "flat" (flag.TextVar).
func (b *ErrorBody) UnmarshalText(text []byte) error {
	switch v := ErrorBody(text); v {
	case ErrorBodyRails, ErrorBodyFlat:
		*b = v
		return nil
	}
	return fmt.Errorf("error body %q: want %q or %q", text, ErrorBodyRails, ErrorBodyFlat)
}
