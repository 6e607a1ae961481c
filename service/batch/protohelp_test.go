package batch_test

import (
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/anypb"

	"github.com/procore-directory/procore-directory/service/apierr"
)

func protoName(f string) protoreflect.Name { return protoreflect.Name(f) }

func protoString(s string) protoreflect.Value { return protoreflect.ValueOfString(s) }

// unknownOutcome reports a status that says the outcome is unknown
// (UNAVAILABLE, UPSTREAM_OUTCOME_UNKNOWN): not a definite failure.
func unknownOutcome(code int32, details []*anypb.Any) bool {
	if codes.Code(code) != codes.Unavailable {
		return false
	}
	for _, d := range details {
		info := &errdetails.ErrorInfo{}
		if d.UnmarshalTo(info) == nil && info.GetReason() == apierr.ReasonUpstreamOutcomeUnknown {
			return true
		}
	}
	return false
}

func codeOf(err error) codes.Code { return status.Code(err) }
