package service

import "fmt"

// AdminFields is how the Procore behind this service reads its rule on the
// four Directory-Admin-only fields. Procore's published text says a request
// *including* one of them is refused without Directory Admin rights, yet it
// also requires email_address in every update; tenants have been seen to
// refuse only a changed value. Which one holds decides whether sending
// email_address unchanged is safe, so it is configuration, not a guess.
type AdminFields int

const (
	// AdminFieldsChanged (the default): Procore refuses only a changed
	// value, so email_address can be sent back unchanged by anyone.
	AdminFieldsChanged AdminFields = iota
	// AdminFieldsIncluded: Procore refuses any request that includes one of
	// the fields, even unchanged, from a credential without Directory Admin
	// rights. Unless that credential is known to be a Directory Admin's
	// (WithDirectoryAdminCredential), the service then never sends
	// email_address unless the mask names it (RequiredFieldsMode.rule).
	AdminFieldsIncluded
)

// String returns the flag spelling.
func (a AdminFields) String() string {
	switch a {
	case AdminFieldsChanged:
		return "changed"
	case AdminFieldsIncluded:
		return "included"
	default:
		return fmt.Sprintf("AdminFields(%d)", int(a))
	}
}

// ParseAdminFields parses the flag spelling: changed or included.
func ParseAdminFields(s string) (AdminFields, error) {
	for _, a := range []AdminFields{AdminFieldsChanged, AdminFieldsIncluded} {
		if s == a.String() {
			return a, nil
		}
	}
	return 0, fmt.Errorf("admin fields %q: want changed or included", s)
}

// WithAdminFields says how Procore reads its admin-only rule; the default
// is AdminFieldsChanged.
func WithAdminFields(a AdminFields) Option {
	return func(s *Service) { s.procore.adminFields = a }
}

// WithDirectoryAdminCredential says that the credential Procore sees is a
// Directory Admin's: directoryd's own, in client-credentials mode, where
// the authorization policy (not Procore) keeps non-admin callers from the
// admin-only fields. Sending email_address unchanged is then safe whatever
// AdminFields says, so fill mode fills it. Without it (pass-through, where
// Procore sees each caller's own token) the service cannot know.
func WithDirectoryAdminCredential() Option {
	return func(s *Service) { s.procore.adminCredential = true }
}
