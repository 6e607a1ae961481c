package upstream

import "time"

// NamedRef is a reference Procore embeds in a user: a vendor or a
// permission template.
type NamedRef struct {
	ID   int64
	Name string
}

// User is a Procore company user as show and update return it. Fields
// Procore may send as null are pointers; unknown JSON fields are ignored,
// because Procore adds fields without notice.
type User struct {
	ID                          int64
	Name                        *string
	FirstName                   *string
	LastName                    *string
	JobTitle                    *string
	Address                     *string
	City                        *string
	Zip                         *string
	BusinessPhone               *string
	BusinessPhoneExtension      *int64 // Procore libraries disagree: JSON integer or numeric string
	MobilePhone                 *string
	FaxNumber                   *string
	EmailAddress                *string
	EmailSignature              *string
	IsActive                    *bool
	IsEmployee                  *bool
	AddToNewProjects            *bool
	EmployeeID                  *string // JSON string or integer
	Notes                       *string
	CountryCode                 *string
	StateCode                   *string
	Initials                    *string
	OriginID                    *string
	OriginData                  *string
	VendorID                    *int64
	DefaultPermissionTemplateID *int64
	CompanyPermissionTemplateID *int64
	WorkClassificationID        *int64
	Vendor                      *NamedRef
	PermissionTemplate          *NamedRef
	CompanyPermissionTemplate   *NamedRef
	Avatar                      *string
	LastLoginAt                 *time.Time
	WelcomeEmailSentAt          *time.Time
	CreatedAt                   *time.Time
	UpdatedAt                   *time.Time
	// The fields below are in Procore's published update and show answers
	// (role and verified_employee in show only); any of them may be absent.
	ContactID          *int64
	BusinessID         *string // published as a string or null
	IsInsuranceManager *bool
	Role               *string
	VerifiedEmployee   *bool
}
