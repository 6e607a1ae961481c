package server

import (
	"fmt"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"

	"github.com/procore-directory/procore-directory/service/apierr"
)

// ReasonTooManyStreams: every one of the --max-watch-streams Health/Watch
// streams is taken (RESOURCE_EXHAUSTED). The caller should reuse one
// stream per process, or poll Health/Check.
const ReasonTooManyStreams = "TOO_MANY_STREAMS"

// StreamCap returns the stream interceptor that lets at most max streams
// of method run at once, over every connection, and refuses the others at
// once with RESOURCE_EXHAUSTED (ReasonTooManyStreams). Health/Watch needs
// no authentication and stays open as long as its caller likes, holding a
// goroutine and buffers each: MaxConcurrentStreams bounds them per
// connection, this bounds them for the process. max <= 0: no cap.
func StreamCap(method string, max int) grpc.StreamServerInterceptor {
	if max <= 0 {
		return func(srv any, ss grpc.ServerStream, _ *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
			return handler(srv, ss)
		}
	}
	slots := make(chan struct{}, max)
	return func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
		if info.FullMethod != method {
			return handler(srv, ss)
		}
		select {
		case slots <- struct{}{}:
		default:
			return apierr.New(codes.ResourceExhausted, ReasonTooManyStreams,
				fmt.Sprintf("too many %s streams open (at most %d at once): reuse one stream, or poll Check", method, max), nil)
		}
		defer func() { <-slots }()
		return handler(srv, ss)
	}
}

// guardedStream is a ServerStream whose RecvMsg reports a malformed
// message as INVALID_ARGUMENT (see decodeGuard).
type guardedStream struct {
	grpc.ServerStream
	guard *decodeGuard
}

// RecvMsg implements grpc.ServerStream.
func (s guardedStream) RecvMsg(m any) error {
	if err := s.ServerStream.RecvMsg(m); err != nil {
		return err
	}
	return s.guard.take(m)
}
