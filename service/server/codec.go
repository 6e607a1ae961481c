package server

import (
	"context"
	"sync"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/encoding"
	"google.golang.org/grpc/encoding/proto"
	"google.golang.org/grpc/mem"
	protov2 "google.golang.org/protobuf/proto"

	"github.com/procore-directory/procore-directory/service/apierr"
)

// decodeGuard makes a malformed request message (bad wire format, a string
// that is not UTF-8) INVALID_ARGUMENT, the caller's fault, where grpc-go
// answers INTERNAL and skips every interceptor, the access log included.
//
// grpc-go decodes a request before the interceptors run and turns any codec
// error into INTERNAL, so the codec cannot say it. Instead the server's
// codec (Codec) reports success with the message reset, and remembers the
// failure by message; the first interceptor (Unary) and every stream's
// RecvMsg (Stream) take it back and fail the call with INVALID_ARGUMENT
// and a BadRequest on "request" before any handler sees the empty message.
type decodeGuard struct {
	base   encoding.CodecV2
	failed sync.Map // message (pointer) -> error
}

func newDecodeGuard() *decodeGuard {
	return &decodeGuard{base: encoding.GetCodecV2(proto.Name)}
}

// Name implements encoding.CodecV2: this is the proto codec.
func (g *decodeGuard) Name() string { return g.base.Name() }

// Marshal implements encoding.CodecV2.
func (g *decodeGuard) Marshal(v any) (mem.BufferSlice, error) { return g.base.Marshal(v) }

// Unmarshal implements encoding.CodecV2; see decodeGuard.
func (g *decodeGuard) Unmarshal(data mem.BufferSlice, v any) error {
	err := g.base.Unmarshal(data, v)
	if err == nil {
		return nil
	}
	m, ok := v.(protov2.Message)
	if !ok {
		return err
	}
	protov2.Reset(m)
	g.failed.Store(v, err)
	return nil
}

// take returns the INVALID_ARGUMENT error of v's failed decoding, if any,
// and forgets it.
func (g *decodeGuard) take(v any) error {
	if _, ok := v.(protov2.Message); !ok {
		return nil // not a message, never stored (and maybe not hashable)
	}
	if _, failed := g.failed.LoadAndDelete(v); !failed {
		return nil
	}
	// The decoder's own message is left out: it can quote request bytes.
	return apierr.New(codes.InvalidArgument, apierr.ReasonInvalidRequest,
		"invalid request: the message is not valid protobuf (malformed wire format, or a string that is not UTF-8)", nil,
		&errdetails.BadRequest{FieldViolations: []*errdetails.BadRequest_FieldViolation{{
			Field: "request", Description: "not a valid protobuf encoding of the request message", Reason: "MALFORMED_MESSAGE",
		}}})
}

// Unary is the interceptor that fails a call whose request did not decode.
func (g *decodeGuard) Unary(ctx context.Context, req any, _ *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
	if err := g.take(req); err != nil {
		return nil, err
	}
	return handler(ctx, req)
}

// Stream is the stream interceptor that fails a stream's RecvMsg whose
// message did not decode.
func (g *decodeGuard) Stream(srv any, ss grpc.ServerStream, _ *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
	return handler(srv, guardedStream{ServerStream: ss, guard: g})
}
