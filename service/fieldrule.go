package service

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/procore-directory/procore-directory/service/state"
	"github.com/procore-directory/procore-directory/upstream"
)

// RequiredFieldsMode decides what an update does when its mask leaves out
// last_name or email_address, the two fields Procore's reference requires in
// every PATCH body. Partial bodies have been seen accepted in practice, so
// which behaviour is right depends on the Procore tenant; the mode makes the
// choice explicit instead of guessing. In no mode is any other unmasked field
// sent: that would overwrite data the caller did not ask to change.
type RequiredFieldsMode int

const (
	// RequiredFieldsFill reads the current record and sends last_name and
	// email_address unchanged, so a caller can change one field without
	// knowing the others. It costs one extra upstream GET per update, and a
	// change another writer makes to those two fields between the GET and the
	// PATCH is overwritten with the value read.
	RequiredFieldsFill RequiredFieldsMode = iota
	// RequiredFieldsMaskedOnly sends only the masked fields and lets Procore
	// judge the body.
	RequiredFieldsMaskedOnly
	// RequiredFieldsReject answers INVALID_ARGUMENT unless the mask names both.
	RequiredFieldsReject
	// RequiredFieldsAuto sends only the masked fields first; if Procore
	// refuses the body for a missing required field (400 or 422 naming
	// last_name or email_address: certainly not applied), it fills the two
	// from the current record (one GET) and sends once more, and remembers
	// the company (PartialBodyMemory), so its later updates fill at once.
	// Where partial bodies are accepted an update costs one Procore request
	// instead of fill's two; where they are not, the first update of each
	// company costs one more. Procore's rate budget is what callers pay
	// most for, hence the default.
	RequiredFieldsAuto
)

// String returns the mode's flag spelling.
func (m RequiredFieldsMode) String() string {
	return flagSpelling(int(m), "RequiredFieldsMode", "fill", "masked-only", "reject", "auto")
}

// ParseRequiredFieldsMode parses the flag spelling: auto, fill, masked-only
// or reject.
func ParseRequiredFieldsMode(s string) (RequiredFieldsMode, error) {
	return parseFlag(s, "required-fields mode", "auto, fill, masked-only or reject",
		RequiredFieldsAuto, RequiredFieldsFill, RequiredFieldsMaskedOnly, RequiredFieldsReject)
}

// WithRequiredFields sets what an update does when its mask leaves out
// last_name or email_address; the default is RequiredFieldsAuto.
func WithRequiredFields(m RequiredFieldsMode) Option {
	return func(s *Service) { s.rule.mode = m }
}

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
	// email_address unless the mask names it (fieldRule.plan).
	AdminFieldsIncluded
)

// String returns the flag spelling.
func (a AdminFields) String() string {
	return flagSpelling(int(a), "AdminFields", "changed", "included")
}

// ParseAdminFields parses the flag spelling: changed or included.
func ParseAdminFields(s string) (AdminFields, error) {
	return parseFlag(s, "admin fields", "changed or included", AdminFieldsChanged, AdminFieldsIncluded)
}

// flagSpelling is the flag spelling of the value v of an enumeration typ
// whose constants, from 0, are spelt names.
func flagSpelling(v int, typ string, names ...string) string {
	if v >= 0 && v < len(names) {
		return names[v]
	}
	return fmt.Sprintf("%s(%d)", typ, v)
}

// parseFlag returns the one of values spelt s, or an error naming what is
// parsed and the spellings wanted.
func parseFlag[T fmt.Stringer](s, what, want string, values ...T) (T, error) {
	for _, v := range values {
		if s == v.String() {
			return v, nil
		}
	}
	var zero T
	return zero, fmt.Errorf("%s %q: want %s", what, s, want)
}

// WithAdminFields says how Procore reads its admin-only rule; the default
// is AdminFieldsChanged.
func WithAdminFields(a AdminFields) Option {
	return func(s *Service) { s.rule.adminFields = a }
}

// WithDirectoryAdminCredential says that the credential Procore sees is a
// Directory Admin's: directoryd's own, in client-credentials mode, where
// the authorization policy (not Procore) keeps non-admin callers from the
// admin-only fields. Sending email_address unchanged is then safe whatever
// AdminFields says, so fill mode fills it. Without it (pass-through, where
// Procore sees each caller's own token) the service cannot know.
func WithDirectoryAdminCredential() Option {
	return func(s *Service) { s.rule.adminCredential = true }
}

// fieldRule is Procore's rule on the fields of an update body, and the only
// code that knows it: which fields Procore requires in every PATCH
// (last_name, email_address), which only a Directory Admin may change, and
// what the configured RequiredFieldsMode and AdminFields make of them. Its
// one entry point, plan, turns an update's patch into a fieldPlan; every
// other step (authorize, completeRequired, send, validateOnly) acts on the
// plan without knowing why it says what it says. The fields themselves are
// read once from the Procore client's field table (upstream.Fields), the
// one place they are written.
type fieldRule struct {
	mode RequiredFieldsMode
	// required are the fields Procore requires in every PATCH body.
	required []upstream.Field
	// adminOnly are the fields only a Directory Admin may change.
	adminOnly []upstream.Field
	// adminFields is how Procore reads the admin-only rule (WithAdminFields).
	adminFields AdminFields
	// adminCredential: the credential Procore sees is a Directory Admin's
	// (WithDirectoryAdminCredential).
	adminCredential bool
	// partial is what auto mode learned (PartialBodyMemory, below).
	partial PartialBodyMemory
	// authorizes: the service authorizes callers (WithAuthorizer), so the
	// plan says which admin-only fields the patch sends. Without it
	// Procore judges each caller's own token and nothing reads them.
	authorizes bool
}

func newFieldRule() fieldRule {
	r := fieldRule{mode: RequiredFieldsAuto, partial: NewPartialBodyMemory(0)}
	for _, f := range upstream.Fields() {
		if f.Required {
			r.required = append(r.required, f)
		}
		if f.AdminOnly {
			r.adminOnly = append(r.adminOnly, f)
		}
	}
	return r
}

// fieldPlan is what the field rule decides for one update.
type fieldPlan struct {
	// fill are copied, unchanged, from the current record into the patch
	// before it is sent (fill mode, and auto mode for a company known to
	// refuse partial bodies).
	fill []upstream.Field
	// onRefusal are filled only if Procore refuses the body without them
	// (auto mode otherwise).
	onRefusal []upstream.Field
	// withheld are left out although Procore requires them, because the
	// credential may not send them (plan); the caller is told why if
	// Procore refuses the body for their lack (explain).
	withheld []upstream.Field
	// adminOnly are the admin-only fields the patch sends that a caller
	// without directory-admin rights may not send at all (authorize; set
	// only when the service authorizes callers).
	adminOnly []string
	// adminUnchanged are the admin-only fields the patch sends that Procore
	// also requires in every body: such a caller may send them unchanged
	// from the current record, never changed (authorize).
	adminUnchanged []upstream.Field
}

// Violations of the field rule; %s is the field's name.
const (
	msgRequiredCleared   = "%s is masked but not set: Procore requires it, so it cannot be cleared"
	msgRequiredNotMasked = "must include %s: Procore requires it in every update (this server runs with --required-fields=reject)"
)

// plan is the field rule's one entry point. Given the update with its
// patch as translated from the mask, the masked fields the patch clears,
// and the violations found so far, it returns what to do about the
// required and admin-only fields, and the violations that refuse the
// update: a mask that clears a required field (the caller's mistake), and,
// in reject mode, a mask that leaves one out. The memory of auto mode is
// asked only when its answer matters. An update that writes nothing needs
// none of it.
//
// When Procore reads the admin-only rule as AdminFieldsIncluded and the
// credential it sees is not known to be a Directory Admin's, no mode fills
// a required field that is also admin-only (email_address): sending it,
// even unchanged, would make Procore refuse every update of a caller whose
// credential lacks Directory Admin rights, for a field that caller never
// asked to send. It is withheld, as in masked-only mode, and Procore
// judges the partial body.
func (r *fieldRule) plan(ctx context.Context, u *update, cleared []string, found []*errdetails.BadRequest_FieldViolation) (fieldPlan, []*errdetails.BadRequest_FieldViolation) {
	var (
		plan       fieldPlan
		violations []*errdetails.BadRequest_FieldViolation
	)
	// A required field the mask clears is refused, and does not count as
	// written: the patch is never sent.
	writes := u.patch.Len()
	for _, name := range cleared {
		if r.isRequired(name) {
			violations = append(violations, &errdetails.BadRequest_FieldViolation{
				Field:       "user." + name,
				Description: fmt.Sprintf(msgRequiredCleared, name),
				Reason:      "REQUIRED_FIELD_CLEARED",
			})
			writes--
		}
	}
	if writes == 0 && u.req.GetAvatar() == nil {
		return plan, violations
	}
	for _, f := range r.adminOnly {
		if _, sent := u.patch.Value(f.Name); !sent || !r.authorizes {
			continue
		}
		if f.Required {
			plan.adminUnchanged = append(plan.adminUnchanged, f)
		} else {
			plan.adminOnly = append(plan.adminOnly, f.Name)
		}
	}
	for _, f := range r.required {
		if _, sent := u.patch.Value(f.Name); sent { // cleared ones too: refused above
			continue
		}
		withhold := r.adminFields == AdminFieldsIncluded && !r.adminCredential && f.AdminOnly
		switch {
		case withhold && (r.mode == RequiredFieldsFill || r.mode == RequiredFieldsAuto):
			plan.withheld = append(plan.withheld, f)
		case r.mode == RequiredFieldsFill:
			plan.fill = append(plan.fill, f)
		case r.mode == RequiredFieldsAuto:
			plan.onRefusal = append(plan.onRefusal, f)
		case r.mode == RequiredFieldsReject:
			if !hasViolation(found, "user."+f.Name) {
				violations = append(violations, &errdetails.BadRequest_FieldViolation{
					Field:       "update_mask",
					Description: fmt.Sprintf(msgRequiredNotMasked, f.Name),
					Reason:      "REQUIRED_FIELD_NOT_MASKED",
				})
			}
		}
	}
	if len(plan.onRefusal) > 0 && r.partial.Has(ctx, u.req.GetCompanyId()) {
		plan = plan.ifRefused()
	}
	return plan, violations
}

// isRequired reports whether Procore requires the field in every PATCH.
func (r *fieldRule) isRequired(name string) bool {
	for _, f := range r.required {
		if f.Name == name {
			return true
		}
	}
	return false
}

// completeRequired is the fill step: it copies the fields the plan fills
// from the current record into the patch, unchanged. A field the record
// does not have is left out (sending null would clear it).
func (s *Service) completeRequired(ctx context.Context, u *update) error {
	if len(u.plan.fill) == 0 || !u.writes() {
		return nil
	}
	cur, err := s.currentRecord(ctx, u)
	if err != nil {
		return err
	}
	for _, f := range u.plan.fill {
		if v := f.Value(cur); !v.IsNull() {
			u.patch.Set(f.Name, v)
		}
	}
	return nil
}

// ifRefused is the plan once Procore has refused the body: the fields left
// to fill on refusal are filled.
func (p fieldPlan) ifRefused() fieldPlan {
	p.fill, p.onRefusal = p.onRefusal, nil
	return p
}

// refused is auto mode's second chance. When err is Procore refusing the
// body for a field the plan left to fill on refusal, it remembers the
// company, turns u's plan into the one that fills those fields, and
// reports true: the caller completes the patch and sends it once more.
func (r *fieldRule) refused(ctx context.Context, u *update, err error) bool {
	if !refusedForMissing(err, u.plan.onRefusal) {
		return false
	}
	r.partial.Remember(ctx, u.req.GetCompanyId())
	u.plan = u.plan.ifRefused()
	return true
}

// refusedForMissing reports whether err is Procore refusing a PATCH body
// because it lacks one of the fields left out (a 400 or 422 naming it):
// such a PATCH was certainly not applied, so sending it again with the
// field is safe. A complaint about a field the body did carry (a blank
// last_name the caller sent) is not one.
func refusedForMissing(err error, left []upstream.Field) bool {
	var ue *upstream.Error
	if len(left) == 0 || !errors.As(err, &ue) || ue.Kind != upstream.KindStatus ||
		(ue.StatusCode != http400 && ue.StatusCode != http422) {
		return false
	}
	for _, fe := range ue.FieldErrors {
		// A flat error body names its fields in one comma-separated string.
		for _, name := range strings.Split(fe.Field, ",") {
			for _, f := range left {
				if strings.TrimSpace(name) == f.Name {
					return true
				}
			}
		}
	}
	return false
}

// The statuses Procore refuses a body with; named here so that the core
// need not import net/http.
const (
	http400 = 400
	http422 = 422
)

// msgWithheld is added to Procore's refusal of a body that lacks a field
// the plan withheld; %[1]s is the field's name.
const msgWithheld = "%[1]s was not sent because it was not masked and this Procore refuses any request that includes it to a credential without Directory Admin rights (--admin-fields=included): a Directory Admin caller masks %[1]s to send it unchanged"

// explain adds to Procore's refusal of a body that lacks a required field
// the plan withheld (email_address under --admin-fields=included) why it
// was not sent and what the caller can do, since Procore's own "can't be
// blank" would suggest the caller forgot it. Any other error is returned
// as it is.
func (p fieldPlan) explain(err error) error {
	if err == nil || len(p.withheld) == 0 {
		return err
	}
	st, ok := status.FromError(err)
	if !ok || st.Code() != codes.InvalidArgument {
		return err
	}
	named := map[string]bool{}
	for _, d := range st.Details() {
		if br, ok := d.(*errdetails.BadRequest); ok {
			for _, v := range br.GetFieldViolations() {
				named[v.GetField()] = true
			}
		}
	}
	pb := st.Proto()
	for _, f := range p.withheld {
		if named["user."+f.Name] {
			pb.Message += "; " + fmt.Sprintf(msgWithheld, f.Name)
		}
	}
	return status.FromProto(pb).Err()
}

// Notes of a validate_only preview; %s lists fields ("last_name and
// email_address").
const (
	noteIfRefused = "--required-fields=auto: Procore is sent only the masked fields; a validate_only cannot learn whether it accepts a body without %s, so if_refused is the request that would follow a refusal (those fields unchanged from the current record)"
	noteWithheld  = "%s is not sent (--admin-fields=included): a Procore that requires it in every body would refuse the update"
)

// notes says in words what a validate_only preview of the plan cannot
// show: that the body may be refused and completed, and what is withheld.
func (p fieldPlan) notes() []string {
	var notes []string
	if len(p.onRefusal) > 0 {
		notes = append(notes, fmt.Sprintf(noteIfRefused, fieldNames(p.onRefusal)))
	}
	if len(p.withheld) > 0 {
		notes = append(notes, fmt.Sprintf(noteWithheld, fieldNames(p.withheld)))
	}
	return notes
}

// fieldNames lists fields for a note: "last_name and email_address".
func fieldNames(fields []upstream.Field) string {
	names := make([]string, len(fields))
	for i, f := range fields {
		names[i] = f.Name
	}
	return strings.Join(names, " and ")
}

// What auto mode learns: the companies whose Procore refuses a partial body.

// PartialBodyMemory remembers which companies' Procore refuses a PATCH body
// without last_name and email_address (by company id), so that
// --required-fields=auto pays the refused attempt once per company rather
// than once per update. Replicas share what one of them learned through a
// Redis-backed one (redisstate.NewPartialBodies); the default keeps it in
// memory. A memory that cannot answer reports false: the update then sends
// the masked fields first and, if refused, fills them, which costs one
// Procore request more and never changes what is written.
type PartialBodyMemory = state.Memory[int64]

// DefaultPartialBodyCompanies bounds the in-memory PartialBodyMemory: a
// company id comes from the caller, and Procore may refuse a body for a
// missing field before it looks the company up, so without a bound callers
// could grow the map without limit.
const DefaultPartialBodyCompanies = 10000

// NewPartialBodyMemory returns a PartialBodyMemory kept in this process,
// holding at most max companies (DefaultPartialBodyCompanies when max <= 0).
// Past the bound nothing new is remembered: those companies keep paying the
// refused attempt, which costs requests, never correctness.
func NewPartialBodyMemory(max int) PartialBodyMemory {
	return state.NewLocalMemory[int64](max, DefaultPartialBodyCompanies)
}

// WithPartialBodyMemory replaces the in-process memory of
// --required-fields=auto (NewPartialBodyMemory) with a shared one.
func WithPartialBodyMemory(m PartialBodyMemory) Option {
	return func(s *Service) {
		if m != nil {
			s.rule.partial = m
		}
	}
}
