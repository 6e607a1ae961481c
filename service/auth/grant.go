package auth

// Grant is what an authorized caller may do in one company.
type Grant struct {
	// DirectoryAdmin allows changing the directory-admin-only fields
	// (email_address, the two permission template ids and
	// add_to_new_projects: upstream.Field.AdminOnly).
	DirectoryAdmin bool
	// Auditor allows reading the audit trail of the company's writes
	// (ListAuditEvents): who changed which fields of whom.
	Auditor bool
}
