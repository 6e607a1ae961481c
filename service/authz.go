package service

import (
	"context"
	"strings"

	"google.golang.org/grpc/codes"

	directoryv1 "github.com/procore-directory/procore-directory/gen/procore/directory/v1"
	"github.com/procore-directory/procore-directory/upstream"
)

// ErrorInfo reasons of authorization denials.
const (
	// ReasonCallerNotAllowed: the authenticated caller is not in the policy.
	ReasonCallerNotAllowed = "CALLER_NOT_ALLOWED"
	// ReasonCompanyNotAllowed: the caller may not touch this company.
	ReasonCompanyNotAllowed = "COMPANY_NOT_ALLOWED"
	// ReasonAdminFieldNotAllowed: the update changes a directory-admin-only
	// field and the caller has no directory-admin rights.
	ReasonAdminFieldNotAllowed = "ADMIN_FIELD_NOT_ALLOWED"
)

// Grant is what an authorized caller may do in one company.
type Grant struct {
	// DirectoryAdmin allows changing the directory-admin-only fields
	// (AdminOnlyFields).
	DirectoryAdmin bool
}

// Authorizer decides whether the caller of ctx (see CallerFromContext) may
// touch a company, and how. It matters in client-credentials mode, where
// Procore sees directoryd's credential rather than the caller's and so
// cannot enforce the caller's rights itself. It returns a gRPC status
// error (PERMISSION_DENIED, UNAUTHENTICATED) to refuse; *Policy is the
// file-based one.
type Authorizer interface {
	Authorize(ctx context.Context, companyID int64) (Grant, error)
}

// WithAuthorizer makes every call ask a before it reaches Procore: reads
// and updates are kept to the caller's companies, and updates that change
// a directory-admin-only field need Grant.DirectoryAdmin. A refused call
// sends nothing upstream, except one GET when the decision depends on
// whether email_address changes. Without it, every call is let through
// (pass-through mode, where Procore judges the caller's own token).
func WithAuthorizer(a Authorizer) Option {
	return func(s *Service) { s.authz = a }
}

// AdminOnlyFields are the fields Procore lets only Directory Admins
// change. email_address counts only when its value changes (Procore
// requires it in every PATCH, so sending it unchanged must pass).
func AdminOnlyFields() []string {
	return []string{fieldEmailAddress, "default_permission_template_id", "company_permission_template_id", "add_to_new_projects"}
}

// authorizeRead checks a read of companyID.
func (s *Service) authorizeRead(ctx context.Context, companyID int64) error {
	if s.authz == nil {
		return nil
	}
	_, err := s.authz.Authorize(ctx, companyID)
	return err
}

// authorizeUpdate checks an update of companyID that would send patch. It
// refuses admin-only fields other than email_address at once; checkEmail
// reports that the caller is no admin and the patch sends email_address,
// so the caller must compare it with the current record (deniedEmail)
// before writing.
func (s *Service) authorizeUpdate(ctx context.Context, req *directoryv1.UpdateCompanyUserRequest, patch *upstream.Patch) (checkEmail bool, err error) {
	if s.authz == nil {
		return false, nil
	}
	grant, err := s.authz.Authorize(ctx, req.GetCompanyId())
	if err != nil || grant.DirectoryAdmin {
		return false, err
	}
	var denied []string
	for _, f := range AdminOnlyFields() {
		if _, sent := patch.Value(f); sent && f != fieldEmailAddress {
			denied = append(denied, f)
		}
	}
	if len(denied) > 0 {
		return false, adminFieldDenied(denied)
	}
	_, sendsEmail := patch.Value(fieldEmailAddress)
	return sendsEmail, nil
}

// deniedEmail refuses a patch that changes email_address from current.
func deniedEmail(patch *upstream.Patch, current *upstream.User) error {
	v, ok := patch.Value(fieldEmailAddress)
	if !ok {
		return nil
	}
	if current != nil && current.EmailAddress != nil && !v.IsNull() && v.Str() == *current.EmailAddress {
		return nil
	}
	return adminFieldDenied([]string{fieldEmailAddress})
}

// adminFieldDenied names the fields, never their values.
func adminFieldDenied(fields []string) error {
	names := make([]string, len(fields))
	for i, f := range fields {
		names[i] = "user." + f
	}
	return newStatus(codes.PermissionDenied, ReasonAdminFieldNotAllowed,
		"permission denied: "+strings.Join(names, ", ")+" may be changed only by callers with directory-admin rights in the authorization policy",
		map[string]string{"field": names[0], "fields": strings.Join(names, ",")})
}
