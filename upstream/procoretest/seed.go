package procoretest

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"slices"
)

//go:embed directory.json
var defaultSeed []byte

// DefaultSeed returns a copy of the built-in seed fixture (directory.json), so
// callers can inspect or modify it without affecting other emulators.
func DefaultSeed() []byte { return slices.Clone(defaultSeed) }

// seedFile is the JSON fixture format shared with shared/fixtures/directory.json.
type seedFile struct {
	OAuthClients []seedClient  `json:"oauth_clients"`
	Companies    []seedCompany `json:"companies"`
}

type seedClient struct {
	ClientID       string  `json:"client_id"`
	ClientSecret   string  `json:"client_secret"`
	DirectoryAdmin bool    `json:"directory_admin"`
	CompanyIDs     []int64 `json:"company_ids"`
}

type seedNamed struct {
	ID   int64  `json:"id"`
	Name string `json:"name"`
}

type seedCompany struct {
	ID                         int64       `json:"id"`
	Name                       string      `json:"name"`
	ConfigurableRequiredFields []string    `json:"configurable_required_fields"`
	Vendors                    []seedNamed `json:"vendors"`
	PermissionTemplates        []seedNamed `json:"permission_templates"`
	WorkClassifications        []seedNamed `json:"work_classifications"`
	Users                      []seedUser  `json:"users"`
}

// seedUser keeps every editable field raw so the same type coercion used for
// PATCH bodies decides its stored type; the derived objects are explicit.
type seedUser struct {
	ID                        int64      `json:"id"`
	ContactID                 *int64     `json:"contact_id"`
	Vendor                    *seedNamed `json:"vendor"`
	PermissionTemplate        *seedNamed `json:"permission_template"`
	CompanyPermissionTemplate *seedNamed `json:"company_permission_template"`
	Avatar                    *string    `json:"avatar"`
	Name                      *string    `json:"name"`
	LastLoginAt               *string    `json:"last_login_at"`
	WelcomeEmailSentAt        *string    `json:"welcome_email_sent_at"`
	CreatedAt                 *string    `json:"created_at"`
	UpdatedAt                 *string    `json:"updated_at"`
	BusinessID                *string    `json:"business_id"`
	IsInsuranceManager        bool       `json:"is_insurance_manager"`
	Role                      *string    `json:"role"`
	VerifiedEmployee          bool       `json:"verified_employee"`
	ErpIntegratedAccountant   bool       `json:"erp_integrated_accountant"`
	raw                       map[string]json.RawMessage
}

func (u *seedUser) UnmarshalJSON(b []byte) error {
	type plain seedUser
	if err := json.Unmarshal(b, (*plain)(u)); err != nil {
		return fmt.Errorf("seed user: %w", err)
	}
	if err := json.Unmarshal(b, &u.raw); err != nil {
		return fmt.Errorf("seed user fields: %w", err)
	}
	return nil
}

// parseSeed turns fixture bytes into a fresh directory. It is strict about
// field types so a broken fixture fails loudly at start-up, not mid-test.
func parseSeed(ft *fieldTable, data []byte) (*directory, []OAuthClient, error) {
	var s seedFile
	if err := json.Unmarshal(data, &s); err != nil {
		return nil, nil, fmt.Errorf("parse seed: %w", err)
	}
	dir := &directory{companies: make(map[int64]*company, len(s.Companies)), nextUserID: 1}
	for _, sc := range s.Companies {
		if _, dup := dir.companies[sc.ID]; dup {
			return nil, nil, fmt.Errorf("seed: duplicate company %d", sc.ID)
		}
		c := &company{
			id:                  sc.ID,
			name:                sc.Name,
			requiredFields:      slices.Clone(sc.ConfigurableRequiredFields),
			vendors:             namedMap(sc.Vendors),
			permissionTemplates: namedMap(sc.PermissionTemplates),
			workClassifications: namedMap(sc.WorkClassifications),
			users:               make(map[int64]*user, len(sc.Users)),
		}
		for _, su := range sc.Users {
			u, err := userFromSeed(ft, su)
			if err != nil {
				return nil, nil, fmt.Errorf("seed company %d user %d: %w", sc.ID, su.ID, err)
			}
			if _, dup := c.users[u.id]; dup {
				return nil, nil, fmt.Errorf("seed company %d: duplicate user %d", sc.ID, u.id)
			}
			c.users[u.id] = u
			c.order = append(c.order, u.id)
			dir.nextUserID = max(dir.nextUserID, u.id+1)
		}
		slices.Sort(c.order)
		dir.companies[c.id] = c
	}
	clients := make([]OAuthClient, 0, len(s.OAuthClients))
	for _, sc := range s.OAuthClients {
		clients = append(clients, OAuthClient{
			ClientID:       sc.ClientID,
			ClientSecret:   sc.ClientSecret,
			DirectoryAdmin: sc.DirectoryAdmin,
			CompanyIDs:     slices.Clone(sc.CompanyIDs),
		})
	}
	return dir, clients, nil
}

func namedMap(items []seedNamed) map[int64]string {
	m := make(map[int64]string, len(items))
	for _, it := range items {
		m[it.ID] = it.Name
	}
	return m
}

func userFromSeed(ft *fieldTable, su seedUser) (*user, error) {
	u := &user{
		id:                      su.ID,
		fields:                  make(map[string]any, len(ft.editable)),
		lastLoginAt:             su.LastLoginAt,
		welcomeEmailSentAt:      su.WelcomeEmailSentAt,
		createdAt:               su.CreatedAt,
		updatedAt:               su.UpdatedAt,
		businessID:              su.BusinessID,
		isInsuranceManager:      su.IsInsuranceManager,
		role:                    su.Role,
		verifiedEmployee:        su.VerifiedEmployee,
		erpIntegratedAccountant: su.ErpIntegratedAccountant,
		avatarURL:               su.Avatar,
	}
	// contact_id is non-null in the published schema; a seed without one
	// (such as the shared fixture) gets the user id, which is unique too.
	u.contactID = su.ID
	if su.ContactID != nil {
		u.contactID = *su.ContactID
	}
	for _, f := range ft.editable {
		raw, ok := su.raw[f.name]
		if !ok {
			continue
		}
		v, ok := decodeJSONValue(f.kind, raw)
		if !ok {
			return nil, fmt.Errorf("field %s: wrong JSON type", f.name)
		}
		u.fields[f.name] = v
	}
	// The id fields are derived from the template objects unless given.
	setDerived := func(name string, obj *seedNamed) {
		if _, given := su.raw[name]; given {
			return
		}
		if obj != nil {
			u.fields[name] = obj.ID
		}
	}
	setDerived("vendor_id", su.Vendor)
	setDerived("default_permission_template_id", su.PermissionTemplate)
	setDerived("company_permission_template_id", su.CompanyPermissionTemplate)
	if _, ok := u.fields["add_to_new_projects"]; !ok {
		u.fields["add_to_new_projects"] = false
	}
	u.seedNames = map[string]*seedNamed{
		"vendor_id":                      su.Vendor,
		"default_permission_template_id": su.PermissionTemplate,
		"company_permission_template_id": su.CompanyPermissionTemplate,
	}
	if su.Name != nil {
		u.name = *su.Name
	} else {
		u.name = fullName(u.fields)
	}
	return u, nil
}
