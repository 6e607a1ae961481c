package service

import (
	"errors"
	"fmt"

	"buf.build/go/protovalidate"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	directoryv1 "github.com/procore-directory/procore-directory/gen/procore/directory/v1"
	"github.com/procore-directory/procore-directory/upstream"
)

// validator checks update and get requests before anything goes upstream.
type validator struct {
	rules     protovalidate.Validator
	countries SubdivisionChecker
}

// SubdivisionChecker answers whether a country code is an ISO 3166-1
// alpha-2 code, and whether an ISO 3166-2 subdivision code (without its
// country prefix) belongs to that country: checks of CompanyUser that the
// proto's rules cannot state. *upstream.ISO3166 is the real one.
type SubdivisionChecker interface {
	ValidCountry(country string) bool
	ValidSubdivision(country, subdivision string) bool
}

// validateGet applies the proto's rules to a get request.
func (v *validator) validateGet(req *directoryv1.GetCompanyUserRequest) []*errdetails.BadRequest_FieldViolation {
	return v.protoViolations(req)
}

// validateUpdate applies the proto's rules to an update request whose user
// holds only the masked fields (AIP-134: fields outside the mask are ignored,
// so their values, valid or not, cannot fail the request), then the checks
// the rules cannot express: that a state code belongs to the country code,
// and that an avatar's bytes are the image type it claims.
func (v *validator) validateUpdate(req *directoryv1.UpdateCompanyUserRequest, masked []protoreflect.FieldDescriptor) []*errdetails.BadRequest_FieldViolation {
	pruned := &directoryv1.UpdateCompanyUserRequest{
		CompanyId:                  req.GetCompanyId(),
		Id:                         req.GetId(),
		User:                       maskedUser(req.GetUser(), masked),
		RunConfigurableValidations: req.RunConfigurableValidations,
		Avatar:                     req.GetAvatar(),
		RequestId:                  req.GetRequestId(),
	}
	violations := v.protoViolations(pruned)
	u := pruned.GetUser()
	if u.CountryCode != nil && !hasViolation(violations, "user.country_code") && !v.countries.ValidCountry(u.GetCountryCode()) {
		violations = append(violations, &errdetails.BadRequest_FieldViolation{
			Field:       "user.country_code",
			Description: fmt.Sprintf("country_code %q is not an ISO 3166-1 alpha-2 country code", u.GetCountryCode()),
			Reason:      "UNKNOWN_COUNTRY",
		})
	}
	// The state is checked against the country only when the update sets
	// both; against the stored country, Procore judges (and its 422 comes
	// back as a violation on user.state_code).
	if u.CountryCode != nil && u.StateCode != nil && !hasViolation(violations, "user.country_code", "user.state_code") &&
		!v.countries.ValidSubdivision(u.GetCountryCode(), u.GetStateCode()) {
		violations = append(violations, &errdetails.BadRequest_FieldViolation{
			Field:       "user.state_code",
			Description: fmt.Sprintf("state_code %q is not an ISO 3166-2 subdivision of country_code %q", u.GetStateCode(), u.GetCountryCode()),
			Reason:      "STATE_NOT_IN_COUNTRY",
		})
	}
	if a := req.GetAvatar(); a != nil && !hasViolation(violations, "avatar.content", "avatar.content_type") {
		if sniffed := upstream.SniffContentType(a.GetContent()); sniffed != a.GetContentType() {
			violations = append(violations, &errdetails.BadRequest_FieldViolation{
				Field:       "avatar.content",
				Description: fmt.Sprintf("the bytes are %s, not the declared %s: an avatar must be a JPEG, PNG or GIF image", sniffed, a.GetContentType()),
				Reason:      "AVATAR_NOT_AN_IMAGE",
			})
		}
	}
	return violations
}

// maskedUser copies only the masked fields of user.
func maskedUser(user *directoryv1.CompanyUser, masked []protoreflect.FieldDescriptor) *directoryv1.CompanyUser {
	out := &directoryv1.CompanyUser{}
	if user == nil {
		return out
	}
	src, dst := user.ProtoReflect(), out.ProtoReflect()
	for _, fd := range masked {
		if src.Has(fd) {
			dst.Set(fd, src.Get(fd))
		}
	}
	return out
}

// protoViolations runs protovalidate and converts its violations to AIP-193's
// BadRequest field violations, so every invalid argument has one shape.
func (v *validator) protoViolations(msg proto.Message) []*errdetails.BadRequest_FieldViolation {
	err := v.rules.Validate(msg)
	if err == nil {
		return nil
	}
	var verr *protovalidate.ValidationError
	if !errors.As(err, &verr) {
		// A compilation or runtime error of the rules themselves: report it on
		// the request as a whole rather than pretend the input is valid.
		return []*errdetails.BadRequest_FieldViolation{{Field: "", Description: "request could not be validated", Reason: "VALIDATION_ERROR"}}
	}
	out := make([]*errdetails.BadRequest_FieldViolation, 0, len(verr.Violations))
	for _, viol := range verr.Violations {
		out = append(out, &errdetails.BadRequest_FieldViolation{
			Field:       protovalidate.FieldPathString(viol.Proto.GetField()),
			Description: viol.Proto.GetMessage(),
			Reason:      viol.Proto.GetRuleId(),
		})
	}
	return out
}

// hasViolation reports whether any violation names one of fields.
func hasViolation(violations []*errdetails.BadRequest_FieldViolation, fields ...string) bool {
	for _, v := range violations {
		for _, f := range fields {
			if v.GetField() == f {
				return true
			}
		}
	}
	return false
}
