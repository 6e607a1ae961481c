package upstream

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
	jsonv1 "github.com/go-json-experiment/json/v1"
)

// jsonUser is the JSON shape of Procore's user, and the one place its
// member names are written: the struct tags. The procore tag marks the
// members an update may write (and which of those are admin-only,
// required, or not in Procore's sync: nosync); Fields derives the field
// table from it. The flexible types absorb the type disagreements the
// contract warns about.
type jsonUser struct {
	ID                          flexibleInt  `json:"id"`
	Name                        *string      `json:"name"`
	FirstName                   *string      `json:"first_name" procore:"writable"`
	LastName                    *string      `json:"last_name" procore:"writable,required"`
	JobTitle                    *string      `json:"job_title" procore:"writable"`
	Address                     *string      `json:"address" procore:"writable"`
	City                        *string      `json:"city" procore:"writable"`
	Zip                         flexibleText `json:"zip" procore:"writable"`
	BusinessPhone               flexibleText `json:"business_phone" procore:"writable"`
	BusinessPhoneExtension      flexibleInt  `json:"business_phone_extension" procore:"writable"`
	MobilePhone                 flexibleText `json:"mobile_phone" procore:"writable"`
	FaxNumber                   flexibleText `json:"fax_number" procore:"writable"`
	EmailAddress                *string      `json:"email_address" procore:"writable,admin,required"`
	EmailSignature              *string      `json:"email_signature" procore:"writable"`
	IsActive                    *bool        `json:"is_active" procore:"writable"`
	IsEmployee                  *bool        `json:"is_employee" procore:"writable"`
	EmployeeID                  flexibleText `json:"employee_id" procore:"writable"`
	Notes                       *string      `json:"notes" procore:"writable"`
	CountryCode                 *string      `json:"country_code" procore:"writable"`
	StateCode                   *string      `json:"state_code" procore:"writable"`
	Initials                    *string      `json:"initials" procore:"writable"`
	OriginID                    flexibleText `json:"origin_id" procore:"writable"`
	OriginData                  *string      `json:"origin_data" procore:"writable"`
	VendorID                    flexibleInt  `json:"vendor_id" procore:"writable"`
	DefaultPermissionTemplateID flexibleInt  `json:"default_permission_template_id" procore:"writable,admin"`
	CompanyPermissionTemplateID flexibleInt  `json:"company_permission_template_id" procore:"writable,admin"`
	WorkClassificationID        flexibleInt  `json:"work_classification_id" procore:"writable"`
	AddToNewProjects            *bool        `json:"add_to_new_projects" procore:"writable,admin,nosync"`
	Vendor                      *jsonRef     `json:"vendor"`
	PermissionTemplate          *jsonRef     `json:"permission_template"`
	CompanyPermissionTemplate   *jsonRef     `json:"company_permission_template"`
	Avatar                      *string      `json:"avatar"`
	LastLoginAt                 lenientTime  `json:"last_login_at"`
	WelcomeEmailSentAt          lenientTime  `json:"welcome_email_sent_at"`
	CreatedAt                   lenientTime  `json:"created_at"`
	UpdatedAt                   lenientTime  `json:"updated_at"`
	ContactID                   flexibleInt  `json:"contact_id"`
	BusinessID                  flexibleText `json:"business_id"`
	IsInsuranceManager          *bool        `json:"is_insurance_manager"`
	Role                        flexibleText `json:"role"`
	VerifiedEmployee            *bool        `json:"verified_employee"`
}

// jsonRef is the JSON shape of the {id, name} objects a user embeds.
type jsonRef struct {
	ID   flexibleInt  `json:"id"`
	Name flexibleText `json:"name"`
}

// userJSONOptions are the decoding rules Procore's answers have always been
// read with (those of encoding/json, which the service started with):
// member names match case-insensitively but with underscores significant,
// the last of duplicate names wins, and invalid UTF-8 becomes U+FFFD.
func userJSONOptions() json.Options {
	return json.JoinOptions(
		json.MatchCaseInsensitiveNames(true),
		jsonv1.MatchCaseSensitiveDelimiter(true),
		jsontext.AllowDuplicateNames(true),
		jsontext.AllowInvalidUTF8(true),
	)
}

// decodeUser decodes a show/update body. The top level must be a JSON
// object with an id; anything else is an undecodable response. Its errors
// name members, JSON kinds and offsets, never the body's text, which
// carries personal data.
func decodeUser(body []byte) (*User, error) {
	trimmed := bytes.TrimSpace(body) // Unicode spaces too, as always
	if len(trimmed) == 0 || trimmed[0] != '{' {
		return nil, errors.New("decode user: body is not a JSON object")
	}
	var w jsonUser
	if err := json.Unmarshal(trimmed, &w, userJSONOptions()); err != nil {
		return nil, fmt.Errorf("decode user: %w", decodeError(err))
	}
	if w.ID.v == nil {
		return nil, errors.New("decode user: no id")
	}
	return w.user(), nil
}

// user copies the decoded members into a User.
func (w *jsonUser) user() *User {
	u := &User{
		ID: *w.ID.v, Name: w.Name, FirstName: w.FirstName, LastName: w.LastName,
		JobTitle: w.JobTitle, Address: w.Address, City: w.City, Zip: w.Zip.v,
		BusinessPhone: w.BusinessPhone.v, BusinessPhoneExtension: w.BusinessPhoneExtension.v,
		MobilePhone: w.MobilePhone.v, FaxNumber: w.FaxNumber.v, EmailAddress: w.EmailAddress,
		EmailSignature: w.EmailSignature, IsActive: w.IsActive, IsEmployee: w.IsEmployee,
		AddToNewProjects: w.AddToNewProjects, EmployeeID: w.EmployeeID.v, Notes: w.Notes,
		CountryCode: w.CountryCode, StateCode: w.StateCode, Initials: w.Initials,
		OriginID: w.OriginID.v, OriginData: w.OriginData,
		VendorID: w.VendorID.v, DefaultPermissionTemplateID: w.DefaultPermissionTemplateID.v,
		CompanyPermissionTemplateID: w.CompanyPermissionTemplateID.v,
		WorkClassificationID:        w.WorkClassificationID.v,
		Vendor:                      w.Vendor.ref(), PermissionTemplate: w.PermissionTemplate.ref(),
		CompanyPermissionTemplate: w.CompanyPermissionTemplate.ref(),
		Avatar:                    w.Avatar, LastLoginAt: w.LastLoginAt.v,
		WelcomeEmailSentAt: w.WelcomeEmailSentAt.v, CreatedAt: w.CreatedAt.v, UpdatedAt: w.UpdatedAt.v,
		ContactID: w.ContactID.v, BusinessID: w.BusinessID.v, IsInsuranceManager: w.IsInsuranceManager,
		Role: w.Role.v, VerifiedEmployee: w.VerifiedEmployee,
	}
	// Show responses carry the objects but not always the ids.
	if u.VendorID == nil && u.Vendor != nil {
		u.VendorID = &u.Vendor.ID
	}
	if u.DefaultPermissionTemplateID == nil && u.PermissionTemplate != nil {
		u.DefaultPermissionTemplateID = &u.PermissionTemplate.ID
	}
	if u.CompanyPermissionTemplateID == nil && u.CompanyPermissionTemplate != nil {
		u.CompanyPermissionTemplateID = &u.CompanyPermissionTemplate.ID
	}
	return u
}

// ref converts a decoded reference; one without an id counts as absent.
func (r *jsonRef) ref() *NamedRef {
	if r == nil || r.ID.v == nil {
		return nil
	}
	n := &NamedRef{ID: *r.ID.v}
	if r.Name.v != nil {
		n.Name = *r.Name.v
	}
	return n
}

// Sentinel causes of the flexible types, which decodeError reports with
// the member's name.
var (
	errNotInteger = errors.New("not an integer")
	errNotString  = errors.New("not a string")
)

// flexibleInt reads an integer that Procore's libraries may send as a JSON
// integer, an integral number of magnitude at most 2^53 (214.0), or a
// string holding a base-10 int64 between Unicode spaces; null and other
// strings are absent, anything else fails the decoding.
type flexibleInt struct{ v *int64 }

// UnmarshalJSONFrom implements json.UnmarshalerFrom.
func (f *flexibleInt) UnmarshalJSONFrom(dec *jsontext.Decoder) error {
	f.v = nil
	v, err := dec.ReadValue()
	if err != nil {
		return err
	}
	switch v.Kind() {
	case 'n':
		return nil
	case '"':
		s := strings.TrimSpace(unquoteString(v))
		if n, err := strconv.ParseInt(s, 10, 64); err == nil {
			f.v = &n
		}
		return nil
	case '0':
		if n, err := strconv.ParseInt(string(v), 10, 64); err == nil {
			f.v = &n
			return nil
		}
		// 2^53 bounds what a float64 holds exactly.
		x, err := strconv.ParseFloat(string(v), 64)
		if err != nil || x != math.Trunc(x) || math.Abs(x) > 1<<53 {
			return errNotInteger
		}
		n := int64(x)
		f.v = &n
		return nil
	}
	return errNotInteger
}

// flexibleText reads text that may arrive as a JSON string, or as a number
// or boolean kept as written (employee_id, zip, phone numbers); null is
// absent, an object or array fails the decoding.
type flexibleText struct{ v *string }

// UnmarshalJSONFrom implements json.UnmarshalerFrom.
func (f *flexibleText) UnmarshalJSONFrom(dec *jsontext.Decoder) error {
	f.v = nil
	v, err := dec.ReadValue()
	if err != nil {
		return err
	}
	var s string
	switch v.Kind() {
	case 'n':
		return nil
	case '"':
		s = unquoteString(v)
	case '0', 't', 'f':
		s = string(v)
	default:
		return errNotString
	}
	f.v = &s
	return nil
}

// lenientTime reads a timestamp in one of the layouts Procore's libraries
// are known to use. Timestamps are informational, so anything else (null,
// another kind, unparseable text) is absent, never an error that would
// fail an update's response.
type lenientTime struct{ v *time.Time }

// UnmarshalJSONFrom implements json.UnmarshalerFrom.
func (f *lenientTime) UnmarshalJSONFrom(dec *jsontext.Decoder) error {
	f.v = nil
	v, err := dec.ReadValue()
	if err != nil || v.Kind() != '"' {
		return err
	}
	s := unquoteString(v)
	for _, layout := range [...]string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999Z0700", "2006-01-02 15:04:05 -0700", "2006-01-02 15:04:05 MST", "2006-01-02T15:04:05", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			f.v = &t
			return nil
		}
	}
	return nil
}

// unquoteString returns the text of a string literal the decoder has
// validated. Invalid UTF-8 and unpaired surrogate escapes come back as
// U+FFFD with an error that only reports the replacement, so it is dropped.
func unquoteString(lit jsontext.Value) string {
	// Most literals have no escape and are valid UTF-8: their text is the
	// bytes between the quotes, copied once (AppendUnquote would grow a
	// buffer and string() copy it again).
	if inner := lit[1 : len(lit)-1]; bytes.IndexByte(inner, '\\') < 0 && utf8.Valid(inner) {
		return string(inner)
	}
	b, _ := jsontext.AppendUnquote(nil, lit)
	return string(b)
}

// decodeError reports why a body could not be decoded by the offset or
// the member and JSON kind alone: the library's errors quote the input,
// which can carry personal data, so they are not wrapped. Only a
// truncation is, as io.ErrUnexpectedEOF, which reveals nothing.
func decodeError(err error) error {
	var se *jsontext.SyntacticError
	if errors.As(err, &se) {
		if errors.Is(se.Err, io.ErrUnexpectedEOF) {
			return fmt.Errorf("invalid JSON at offset %d: %w", se.ByteOffset, io.ErrUnexpectedEOF)
		}
		return fmt.Errorf("invalid JSON at offset %d", se.ByteOffset)
	}
	var me *json.SemanticError
	if !errors.As(err, &me) {
		return errors.New("invalid JSON")
	}
	field, ok := memberPath(me.JSONPointer)
	if !ok {
		return errors.New("invalid JSON")
	}
	switch {
	case errors.Is(me.Err, errNotInteger), errors.Is(me.Err, errNotString):
		return fmt.Errorf("field %s: %w", field, me.Err)
	}
	return fmt.Errorf("field %s: unexpected JSON %s", field, kindName(me.JSONKind))
}

// memberPath names the member a semantic error is about, as "vendor.id",
// in the canonical spelling of the member the name matched (the body may
// spell it "Vendor" or with a Kelvin sign); ok is false for anything that
// is not a plain member name, which is then not reported at all.
func memberPath(p jsontext.Pointer) (string, bool) {
	var parts []string
	for tok := range p.Tokens() {
		name := strings.ToLower(strings.ToUpper(tok)) // simple folding: ſ is s, K is k
		if name == "" || strings.Trim(name, "abcdefghijklmnopqrstuvwxyz_") != "" {
			return "", false
		}
		parts = append(parts, name)
	}
	return strings.Join(parts, "."), len(parts) > 0
}

// kindName names a JSON kind as encoding/json's errors did.
func kindName(k jsontext.Kind) string {
	switch k {
	case '"':
		return "string"
	case 't', 'f':
		return "bool"
	case '{':
		return "object"
	case '[':
		return "array"
	}
	return "number"
}
