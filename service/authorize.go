package service

import (
	"context"
	"strings"

	"google.golang.org/grpc/codes"

	"github.com/procore-directory/procore-directory/service/apierr"
	"github.com/procore-directory/procore-directory/service/auth"
)

// Authorizer decides whether the caller of ctx may touch a company, and
// how. It matters in client-credentials mode, where Procore sees
// directoryd's credential rather than the caller's and so cannot enforce
// the caller's rights itself. It returns a gRPC status error
// (PERMISSION_DENIED, UNAUTHENTICATED) to refuse; auth.Policy is the
// file-based one. Which fields need an auth.Grant.DirectoryAdmin is
// Procore's rule, and this package applies it (fieldRule.plan, authorize).
type Authorizer interface {
	Authorize(ctx context.Context, companyID int64) (auth.Grant, error)
}

// WithAuthorizer makes every call ask a before it reaches Procore: reads
// and updates are kept to the caller's companies, and updates that change
// a directory-admin-only field need auth.Grant.DirectoryAdmin. A refused call
// sends nothing upstream, except one GET when the decision depends on
// whether email_address changes. Without it, every call is let through
// (pass-through mode, where Procore judges the caller's own token).
func WithAuthorizer(a Authorizer) Option {
	return func(s *Service) { s.authz = a }
}

// authorizeRead checks a read of companyID.
func (s *Service) authorizeRead(ctx context.Context, companyID int64) error {
	if s.authz == nil {
		return nil
	}
	_, err := s.authz.Authorize(ctx, companyID)
	return err
}

// authorize is the update pipeline's authorization step, whole: the
// caller's company, then, for a caller without directory-admin rights, the
// admin-only fields the plan says the patch sends. Those Procore also
// requires (email_address) pass only unchanged, which takes the current
// record (read once, and shared with the fill).
func (s *Service) authorize(ctx context.Context, u *update) error {
	if s.authz == nil {
		return nil
	}
	grant, err := s.authz.Authorize(ctx, u.req.GetCompanyId())
	if err != nil || grant.DirectoryAdmin {
		return err
	}
	if len(u.plan.adminOnly) > 0 {
		return adminFieldDenied(u.plan.adminOnly)
	}
	if len(u.plan.adminUnchanged) == 0 {
		return nil
	}
	cur, err := s.currentRecord(ctx, u)
	if err != nil {
		return err
	}
	var changed []string
	for _, f := range u.plan.adminUnchanged {
		if sent, _ := u.patch.Value(f.Name); sent.IsNull() || sent != f.Value(cur) {
			changed = append(changed, f.Name)
		}
	}
	if len(changed) > 0 {
		return adminFieldDenied(changed)
	}
	return nil
}

// msgAdminFieldDenied follows the names of the fields refused.
const msgAdminFieldDenied = " may be changed only by callers with directory-admin rights in the authorization policy"

// adminFieldDenied names the fields, never their values.
func adminFieldDenied(fields []string) error {
	names := make([]string, len(fields))
	for i, f := range fields {
		names[i] = "user." + f
	}
	return apierr.New(codes.PermissionDenied, apierr.ReasonAdminFieldNotAllowed,
		"permission denied: "+strings.Join(names, ", ")+msgAdminFieldDenied,
		map[string]string{"field": names[0], "fields": strings.Join(names, ",")})
}
