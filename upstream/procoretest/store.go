package procoretest

import (
	"maps"
	"strings"
)

// directory is the whole upstream state: companies with their users and
// reference data. It is guarded by Emulator.mu.
type directory struct {
	companies map[int64]*company
	// nextUserID is the id a sync create takes: above every seeded user of
	// every company, as Procore's ids are unique across companies.
	nextUserID int64
}

type company struct {
	id                  int64
	name                string
	requiredFields      []string
	vendors             map[int64]string
	permissionTemplates map[int64]string
	workClassifications map[int64]string
	users               map[int64]*user
	order               []int64 // user ids, ascending, for the index route
}

// user is one stored company user. Editable fields live in a map keyed by
// the contract's field names holding nil, string, int64 or bool, so PATCH
// can be applied generically; the rest are read-only attributes.
type user struct {
	id                      int64
	contactID               int64
	fields                  map[string]any
	name                    string
	avatarURL               *string
	avatar                  []byte
	avatarType              string
	lastLoginAt             *string
	welcomeEmailSentAt      *string
	createdAt               *string
	updatedAt               *string
	businessID              *string
	isInsuranceManager      bool
	role                    *string
	verifiedEmployee        bool
	erpIntegratedAccountant bool
	seedNames               map[string]*seedNamed
}

// clone copies a user so a failed validation never leaves half an update.
func (u *user) clone() *user {
	c := *u
	c.fields = maps.Clone(u.fields)
	return &c
}

// fullName is how Procore derives name: first and last name joined.
func fullName(fields map[string]any) string {
	first, _ := fields["first_name"].(string)
	last, _ := fields["last_name"].(string)
	return strings.TrimSpace(strings.TrimSpace(first) + " " + strings.TrimSpace(last))
}

// isBlank mirrors Rails' blank?: nil, or a string of only white space.
func isBlank(v any) bool {
	switch x := v.(type) {
	case nil:
		return true
	case string:
		return strings.TrimSpace(x) == ""
	}
	return false
}
