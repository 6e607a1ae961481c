package upstream

// This file holds the encoding/json-based user decoder that decodeUser
// replaced, verbatim apart from its name and doc comments. It is test-only:
// the production decoder must accept exactly what this one accepts and
// produce the same User, and the tests in user_decode_test.go check that.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// wireUser is the JSON shape; the flex types absorb the type
// disagreements the contract warns about.
type wireUser struct {
	ID                          flexInt    `json:"id"`
	Name                        *string    `json:"name"`
	FirstName                   *string    `json:"first_name"`
	LastName                    *string    `json:"last_name"`
	JobTitle                    *string    `json:"job_title"`
	Address                     *string    `json:"address"`
	City                        *string    `json:"city"`
	Zip                         flexString `json:"zip"`
	BusinessPhone               flexString `json:"business_phone"`
	BusinessPhoneExtension      flexInt    `json:"business_phone_extension"`
	MobilePhone                 flexString `json:"mobile_phone"`
	FaxNumber                   flexString `json:"fax_number"`
	EmailAddress                *string    `json:"email_address"`
	EmailSignature              *string    `json:"email_signature"`
	IsActive                    *bool      `json:"is_active"`
	IsEmployee                  *bool      `json:"is_employee"`
	AddToNewProjects            *bool      `json:"add_to_new_projects"`
	EmployeeID                  flexString `json:"employee_id"`
	Notes                       *string    `json:"notes"`
	CountryCode                 *string    `json:"country_code"`
	StateCode                   *string    `json:"state_code"`
	Initials                    *string    `json:"initials"`
	OriginID                    flexString `json:"origin_id"`
	OriginData                  *string    `json:"origin_data"`
	VendorID                    flexInt    `json:"vendor_id"`
	DefaultPermissionTemplateID flexInt    `json:"default_permission_template_id"`
	CompanyPermissionTemplateID flexInt    `json:"company_permission_template_id"`
	WorkClassificationID        flexInt    `json:"work_classification_id"`
	Vendor                      *wireRef   `json:"vendor"`
	PermissionTemplate          *wireRef   `json:"permission_template"`
	CompanyPermissionTemplate   *wireRef   `json:"company_permission_template"`
	Avatar                      *string    `json:"avatar"`
	LastLoginAt                 flexTime   `json:"last_login_at"`
	WelcomeEmailSentAt          flexTime   `json:"welcome_email_sent_at"`
	CreatedAt                   flexTime   `json:"created_at"`
	UpdatedAt                   flexTime   `json:"updated_at"`
}

// wireRef is the JSON shape of the {id, name} objects a user embeds.
type wireRef struct {
	ID   flexInt    `json:"id"`
	Name flexString `json:"name"`
}

// decodeUserOracle is decodeUser as it was before the streaming decoder:
// encoding/json into wireUser, then a copy into User. It is kept, unchanged,
// only as the reference FuzzDecodeUser and TestDecodeUserMatchesOracle
// compare decodeUser against, because its behaviour (what it accepts and
// the User it builds) is the contract the streaming decoder must keep.
func decodeUserOracle(body []byte) (*User, error) {
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) == 0 || trimmed[0] != '{' {
		return nil, fmt.Errorf("decode user: body is not a JSON object")
	}
	var w wireUser
	if err := json.Unmarshal(trimmed, &w); err != nil {
		return nil, fmt.Errorf("decode user: %w", sanitizeJSONError(err))
	}
	if w.ID.v == nil {
		return nil, fmt.Errorf("decode user: no id")
	}
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
	return u, nil
}

// sanitizeJSONError drops encoding/json's quoting of input, which could
// carry personal data, keeping only the kind of problem.
func sanitizeJSONError(err error) error {
	switch e := err.(type) {
	case *json.SyntaxError:
		return fmt.Errorf("invalid JSON at offset %d", e.Offset)
	case *json.UnmarshalTypeError:
		return fmt.Errorf("field %s: unexpected JSON %s", e.Field, e.Value)
	}
	return fmt.Errorf("invalid JSON")
}

// ref converts a decoded reference; one without an id counts as absent.
func (r *wireRef) ref() *NamedRef {
	if r == nil || r.ID.v == nil {
		return nil
	}
	n := &NamedRef{ID: *r.ID.v}
	if r.Name.v != nil {
		n.Name = *r.Name.v
	}
	return n
}

// flexInt decodes a JSON integer, an integral float (214.0) or a numeric
// string; null, "" and non-numeric strings decode as absent rather than
// failing the whole record.
type flexInt struct{ v *int64 }

// UnmarshalJSON implements json.Unmarshaler.
func (f *flexInt) UnmarshalJSON(b []byte) error {
	f.v = nil
	s := string(bytes.TrimSpace(b))
	if s == "null" {
		return nil
	}
	if strings.HasPrefix(s, `"`) {
		str, err := unquoteJSON([]byte(s))
		if err != nil {
			return err
		}
		s = strings.TrimSpace(str)
		if s == "" {
			return nil
		}
		if n, err := strconv.ParseInt(s, 10, 64); err == nil {
			f.v = &n
		}
		return nil
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		f.v = &n
		return nil
	}
	x, err := strconv.ParseFloat(s, 64)
	if err != nil || x != math.Trunc(x) || math.Abs(x) > 1<<53 {
		return fmt.Errorf("not an integer")
	}
	n := int64(x)
	f.v = &n
	return nil
}

// flexString decodes a JSON string, or a number or boolean as its text
// (employee_id arrives as either).
type flexString struct{ v *string }

// UnmarshalJSON implements json.Unmarshaler.
func (f *flexString) UnmarshalJSON(b []byte) error {
	f.v = nil
	b = bytes.TrimSpace(b)
	switch {
	case string(b) == "null":
		return nil
	case len(b) > 0 && b[0] == '"':
		s, err := unquoteJSON(b)
		if err != nil {
			return err
		}
		f.v = &s
		return nil
	case len(b) > 0 && (b[0] == '-' || b[0] >= '0' && b[0] <= '9'), string(b) == "true", string(b) == "false":
		s := string(b)
		f.v = &s
		return nil
	}
	return fmt.Errorf("not a string")
}

// flexTime decodes ISO 8601 timestamps; null, "" and unparseable text
// decode as absent: timestamps are informational and must not fail an
// update's response.
type flexTime struct{ v *time.Time }

// UnmarshalJSON implements json.Unmarshaler.
func (f *flexTime) UnmarshalJSON(b []byte) error {
	f.v = nil
	b = bytes.TrimSpace(b)
	if len(b) == 0 || b[0] != '"' {
		return nil
	}
	s, err := unquoteJSON(b)
	if err != nil {
		return err
	}
	for _, layout := range [...]string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999Z0700", "2006-01-02 15:04:05 -0700", "2006-01-02 15:04:05 MST", "2006-01-02T15:04:05", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			f.v = &t
			return nil
		}
	}
	return nil
}

// unquoteJSON decodes a JSON string literal as encoding/json does. Most
// literals need no unescaping (no backslash, no control character, valid
// UTF-8): their contents are returned directly, without a second
// json.Unmarshal (a validation pass and reflection) per field; any other
// literal goes through encoding/json, so the result is always the same.
func unquoteJSON(b []byte) (string, error) {
	if n := len(b); n >= 2 && b[0] == '"' && b[n-1] == '"' {
		inner := b[1 : n-1]
		plain := true
		for _, c := range inner {
			if c < 0x20 || c == '\\' || c == '"' {
				plain = false
				break
			}
		}
		if plain && utf8.Valid(inner) {
			return string(inner), nil
		}
	}
	var s string
	err := json.Unmarshal(b, &s)
	return s, err
}
