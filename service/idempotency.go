package service

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	spb "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"

	directoryv1 "github.com/procore-directory/procore-directory/gen/procore/directory/v1"
	"github.com/procore-directory/procore-directory/service/apierr"
	"github.com/procore-directory/procore-directory/service/state"
	"github.com/procore-directory/procore-directory/upstream"
)

// claim is the idempotency step (AIP-155). Without a request_id it does
// nothing. With one, the first call under it runs (claimed: release must
// follow), a repeat of the same request gets the first call's answer
// without anything sent upstream (waiting for it if the first call still
// runs), and the same id with a different request is refused: answering
// either with the other's answer would be a lie.
//
// A validate_only request (AIP-163) is never recorded as performed: it
// neither claims nor replays its request_id, so the same id then makes the
// update for real, and a validate_only repeat of an update already made
// still shows what it would send (the id is only checked to be a UUID).
func (s *Service) claim(ctx context.Context, u *update) (replay *answer, claimed bool, err error) {
	id := u.req.GetRequestId()
	if id == "" || s.idem == nil || u.req.GetValidateOnly() {
		return nil, false, nil
	}
	u.idemKey = s.scope(ctx) + "\x00" + id
	stored, err := s.idem.Claim(ctx, u.idemKey, fingerprint(u.req))
	switch {
	case errors.Is(err, state.ErrKeyReused):
		return nil, false, requestIDReused()
	case errors.Is(err, state.ErrFull):
		return nil, false, apierr.New(codes.Unavailable, apierr.ReasonOverloaded,
			opUpdate+": too many calls with a request_id in flight; retry later", nil)
	case err != nil:
		return nil, false, fromWait(ctx, opUpdate, err)
	case stored != nil:
		a, err := decodeAnswer(stored)
		if err != nil {
			return nil, false, apierr.New(codes.Internal, apierr.ReasonInternal, opUpdate+": unreadable idempotency record", nil)
		}
		s.observer.IdempotentReplay()
		return a, false, nil
	}
	return nil, true, nil
}

// release ends a claim with the call's answer. Answers that say what
// happened for good are kept and replayed (the update applied; Procore
// refused it on its content); any other failure lets a retry under the
// same id run again, since nothing is known to have been applied.
func (s *Service) release(ctx context.Context, u *update, user *directoryv1.CompanyUser, callErr error) {
	var keep []byte
	if final(callErr) && (callErr != nil || user != nil) { // neither: the call panicked
		var err error
		if keep, err = encodeAnswer(user, callErr); err != nil {
			s.log.ErrorContext(ctx, "idempotency: cannot encode an answer", "err", err)
			keep = nil
		}
	}
	// The caller may be gone; the record must still be released.
	if err := s.idem.Release(context.WithoutCancel(ctx), u.idemKey, keep); err != nil {
		s.log.ErrorContext(ctx, "idempotency: release failed", "err", err)
	}
}

// final reports whether an answer is final for its request: OK, or a
// refusal that a retry of the same request would meet again.
func final(err error) bool {
	switch status.Code(err) {
	case codes.OK, codes.InvalidArgument, codes.NotFound:
		return true
	}
	return false
}

// answer is a call's result as kept by the idempotency store.
type answer struct {
	user *directoryv1.CompanyUser
	err  error
}

// encodeAnswer keeps a result as a google.rpc.Status: the error's, or OK
// with the user as its one detail. Opaque bytes suit any store.
func encodeAnswer(user *directoryv1.CompanyUser, err error) ([]byte, error) {
	st := status.Convert(err).Proto()
	if err == nil {
		a, aerr := anypb.New(user)
		if aerr != nil {
			return nil, aerr
		}
		st = &spb.Status{Code: int32(codes.OK), Details: []*anypb.Any{a}}
	}
	return proto.Marshal(st)
}

func decodeAnswer(b []byte) (*answer, error) {
	var st spb.Status
	if err := proto.Unmarshal(b, &st); err != nil {
		return nil, err
	}
	if codes.Code(st.GetCode()) != codes.OK {
		return &answer{err: status.FromProto(&st).Err()}, nil
	}
	user := &directoryv1.CompanyUser{}
	if len(st.GetDetails()) != 1 {
		return nil, errors.New("an OK answer without its user")
	}
	if err := st.GetDetails()[0].UnmarshalTo(user); err != nil {
		return nil, err
	}
	return &answer{user: user}, nil
}

// fingerprint identifies a request apart from its request_id: a SHA-256
// of its deterministic encoding.
func fingerprint(req *directoryv1.UpdateCompanyUserRequest) []byte {
	c := proto.CloneOf(req)
	c.RequestId = ""
	b, _ := proto.MarshalOptions{Deterministic: true}.Marshal(c)
	sum := sha256.Sum256(b)
	return sum[:]
}

// msgRequestIDReused is the violation of a request_id reused for another
// request.
const msgRequestIDReused = "this request_id was already used with a different request: use a new UUID for a new request"

// requestIDReused is INVALID_ARGUMENT naming request_id.
func requestIDReused() error {
	return apierr.InvalidArgument([]*errdetails.BadRequest_FieldViolation{{
		Field:       "request_id",
		Description: msgRequestIDReused,
		Reason:      "REQUEST_ID_REUSED",
	}})
}

// defaultScope keeps one caller's request ids apart from another's: the
// Procore token in pass-through mode (as its SHA-256 prefix, never the
// token), else none (WithIdempotencyScope adds the verified caller).
func defaultScope(ctx context.Context) string {
	if tok, ok := upstream.TokenFromContext(ctx); ok {
		sum := sha256.Sum256([]byte(tok))
		return "token:" + hex.EncodeToString(sum[:16])
	}
	return ""
}
