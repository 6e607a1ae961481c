package procoretest

import (
	"encoding/json"
	"strconv"
)

// view selects which route's shape a user is rendered in: the published
// update schema, show (adds role, verified_employee) or list (adds also
// erp_integrated_accountant).
type view int

const (
	viewUpdate view = iota
	viewShow
	viewList
)

// renderUser writes the user as the given route would, fields in a stable
// order. It is hand-rolled because it is on every hot path of benchmarks.
// The published shape applies to the update and show views only: the list
// model of the published schema has the extended fields.
func (ft *fieldTable) renderUser(b []byte, c *company, u *user, v view, shape ResponseShape) []byte {
	published := shape == ResponseShapePublished && v != viewList
	b = append(b, `{"id":`...)
	b = strconv.AppendInt(b, u.id, 10)
	if published {
		b = append(b, `,"contact_id":`...)
		b = strconv.AppendInt(b, u.contactID, 10)
	}
	for _, f := range ft.editable {
		if published && f.name == "vendor_id" {
			continue
		}
		b = append(b, ',', '"')
		b = append(b, f.name...)
		b = append(b, '"', ':')
		b = appendValue(b, u.fields[f.name])
		if f.name == "last_name" {
			b = append(b, `,"name":`...)
			b = appendJSONString(b, u.name)
		}
	}
	b = append(b, `,"avatar":`...)
	b = appendStringPtr(b, u.avatarURL)
	b = append(b, `,"vendor":`...)
	b = appendNamed(b, c.vendors, u, "vendor_id")
	if !published {
		b = append(b, `,"permission_template":`...)
		b = appendNamed(b, c.permissionTemplates, u, "default_permission_template_id")
		b = append(b, `,"company_permission_template":`...)
		b = appendNamed(b, c.permissionTemplates, u, "company_permission_template_id")
	}
	b = append(b, `,"business_id":`...)
	b = appendStringPtr(b, u.businessID)
	b = append(b, `,"is_insurance_manager":`...)
	b = strconv.AppendBool(b, u.isInsuranceManager)
	b = append(b, `,"last_login_at":`...)
	b = appendStringPtr(b, u.lastLoginAt)
	if !published {
		b = append(b, `,"welcome_email_sent_at":`...)
		b = appendStringPtr(b, u.welcomeEmailSentAt)
	}
	b = append(b, `,"created_at":`...)
	b = appendStringPtr(b, u.createdAt)
	b = append(b, `,"updated_at":`...)
	b = appendStringPtr(b, u.updatedAt)
	if v == viewShow || v == viewList {
		b = append(b, `,"role":`...)
		b = appendStringPtr(b, u.role)
		b = append(b, `,"verified_employee":`...)
		b = strconv.AppendBool(b, u.verifiedEmployee)
	}
	if v == viewList {
		b = append(b, `,"erp_integrated_accountant":`...)
		b = strconv.AppendBool(b, u.erpIntegratedAccountant)
	}
	return append(b, '}')
}

func appendNamed(b []byte, names map[int64]string, u *user, field string) []byte {
	id, ok := u.fields[field].(int64)
	if !ok {
		return append(b, "null"...)
	}
	name, found := names[id]
	if !found {
		if s := u.seedNames[field]; s != nil && s.ID == id {
			name = s.Name
		}
	}
	b = append(b, `{"id":`...)
	b = strconv.AppendInt(b, id, 10)
	b = append(b, `,"name":`...)
	b = appendJSONString(b, name)
	return append(b, '}')
}

func appendValue(b []byte, v any) []byte {
	switch x := v.(type) {
	case string:
		return appendJSONString(b, x)
	case int64:
		return strconv.AppendInt(b, x, 10)
	case bool:
		return strconv.AppendBool(b, x)
	}
	return append(b, "null"...)
}

func appendStringPtr(b []byte, s *string) []byte {
	if s == nil {
		return append(b, "null"...)
	}
	return appendJSONString(b, *s)
}

// appendJSONString quotes s as encoding/json does; a fast path skips
// encoding/json when nothing needs escaping.
func appendJSONString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' || c >= 0x80 {
			q, err := json.Marshal(s)
			if err != nil { // invalid UTF-8 is replaced by Marshal, never an error
				return append(b, `""`...)
			}
			return append(b, q...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}
