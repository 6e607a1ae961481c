package procoretest

import (
	"slices"
	"strings"
)

// maxAvatar is the modelled avatar size limit.
const maxAvatar = 10 << 20

// fieldErrors collects 422 messages per field, without duplicates.
type fieldErrors map[string][]string

func (fe fieldErrors) add(field, msg string) {
	if !slices.Contains(fe[field], msg) {
		fe[field] = append(fe[field], msg)
	}
}

// validate runs the model validations on the record as it would be after
// the update (next), collecting every field error as Rails does.
func (e *Emulator) validate(c *company, prev, next *user, cs *changeSet, runConfigurable bool) fieldErrors {
	errs := fieldErrors{}
	for name, ch := range cs.fields {
		switch {
		case ch.refused:
			errs.add(name, "can't be null")
		case ch.invalid:
			errs.add(name, "is invalid")
		}
	}
	f := next.fields
	if _, bad := errs["last_name"]; !bad && isBlank(f["last_name"]) {
		errs.add("last_name", "can't be blank")
	}
	if _, bad := errs["email_address"]; !bad {
		email, _ := f["email_address"].(string)
		switch {
		case isBlank(f["email_address"]):
			errs.add("email_address", "can't be blank")
		case !e.emailRE.MatchString(email):
			errs.add("email_address", "is invalid")
		default:
			old, _ := prev.fields["email_address"].(string)
			if !strings.EqualFold(old, email) && emailTaken(c, next.id, email) {
				errs.add("email_address", "has already been taken")
			}
		}
	}
	country, _ := f["country_code"].(string)
	countryOK := true
	if _, bad := errs["country_code"]; !bad && f["country_code"] != nil {
		if !e.iso.ValidCountry(country) {
			errs.add("country_code", "is not a valid ISO 3166-1 alpha-2 country code")
			countryOK = false
		}
	}
	if _, bad := errs["state_code"]; !bad && f["state_code"] != nil {
		state, _ := f["state_code"].(string)
		switch {
		case f["country_code"] == nil:
			errs.add("state_code", "requires a country_code")
		case countryOK && !e.iso.ValidSubdivision(country, state):
			errs.add("state_code", "is not a subdivision of "+country)
		}
	}
	refs := [...]struct {
		field string
		table map[int64]string
	}{
		{"vendor_id", c.vendors},
		{"default_permission_template_id", c.permissionTemplates},
		{"company_permission_template_id", c.permissionTemplates},
		{"work_classification_id", c.workClassifications},
	}
	for _, ref := range refs {
		id, ok := f[ref.field].(int64)
		if !ok {
			continue
		}
		if _, exists := ref.table[id]; !exists {
			errs.add(ref.field, "does not exist")
		}
	}
	if cs.avatarNull {
		errs.add("avatar", "can't be null")
	}
	if cs.avatarBad {
		errs.add("avatar", "is invalid")
	}
	if cs.avatar != nil {
		if sniffImage(cs.avatar.data) == "" {
			errs.add("avatar", "must be a JPEG, PNG or GIF image")
		}
		if len(cs.avatar.data) > maxAvatar {
			errs.add("avatar", "is too big (should be at most 10 MB)")
		}
	}
	if runConfigurable {
		for _, name := range c.requiredFields {
			if _, editable := e.fields.kind(name); !editable && name != "avatar" {
				continue
			}
			var v any
			if name == "avatar" {
				if next.avatarURL != nil || cs.avatar != nil {
					continue
				}
			} else {
				v = f[name]
			}
			if isBlank(v) {
				errs.add(name, "can't be blank")
			}
		}
	}
	return errs
}

func emailTaken(c *company, self int64, email string) bool {
	for id, u := range c.users {
		if id == self {
			continue
		}
		if other, ok := u.fields["email_address"].(string); ok && strings.EqualFold(other, email) {
			return true
		}
	}
	return false
}
