package auth

import (
	"context"
	"strings"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/peer"

	directoryv1 "github.com/procore-directory/procore-directory/gen/procore/directory/v1"
	"github.com/procore-directory/procore-directory/service/apierr"
	"github.com/procore-directory/procore-directory/service/inprocess"
)

// CallerAuthentication returns the interceptor that establishes who is
// calling, for the authorizer. In client-credentials mode directoryd
// speaks to Procore with its own, possibly Directory Admin, credential, so
// "who is calling" must be proven, not claimed:
//
//   - a network caller is the verified client certificate of its TLS
//     connection (IdentityFromCertificate); a certificate the TLS layer did
//     not verify against the client CA does not count;
//   - a caller of the REST gateway is the identity the gateway forwards in
//     CallerIdentityHeader, believed only on the server's in-process
//     channel (Server.InProcess), which no network peer can reach.
//
// A verified certificate whose identity is not acceptable (a CN spelled
// like a URI, surrounding spaces, control characters: see
// IdentityFromCertificate) is refused here with UNAUTHENTICATED, never
// trimmed or reinterpreted. The forwarded header is removed from every
// call's metadata, and ignored on any other connection, so a network
// caller cannot forge it. A DirectoryService call with no identity fails
// with UNAUTHENTICATED before any upstream call; health and reflection
// need none.
func CallerAuthentication() grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		ctx, forwarded := stripForwardedIdentity(ctx)
		id, verified := "", false
		if p, ok := peer.FromContext(ctx); ok {
			switch ai := p.AuthInfo.(type) {
			case credentials.TLSInfo:
				if chains := ai.State.VerifiedChains; len(chains) > 0 && len(chains[0]) > 0 {
					id, verified = IdentityFromCertificate(chains[0][0]), true
				}
			case inprocess.AuthInfo:
				if len(forwarded) == 1 {
					id = forwarded[0]
				}
			}
		}
		if ValidIdentity(id) {
			ctx = ContextWithCaller(ctx, Caller{ID: id})
		} else if isDirectoryMethod(info.FullMethod) {
			if verified {
				return nil, apierr.New(codes.Unauthenticated, apierr.ReasonCallerUnauthenticated,
					"caller not authenticated: the client certificate names no acceptable identity (a URI SAN with a scheme, or, without URI SANs, a CN of printable ASCII without ':', ',' or surrounding spaces)", nil)
			}
			return nil, apierr.New(codes.Unauthenticated, apierr.ReasonCallerUnauthenticated,
				"caller not authenticated: this server requires a client certificate signed by its client CA", nil)
		}
		return handler(ctx, req)
	}
}

// stripForwardedIdentity returns ctx without CallerIdentityHeader in its
// incoming metadata, and the values it had.
func stripForwardedIdentity(ctx context.Context) (context.Context, []string) {
	// One key is read first: FromIncomingContext copies all the metadata,
	// which only the rare call that sends the header needs.
	values := metadata.ValueFromIncomingContext(ctx, CallerIdentityHeader)
	if len(values) == 0 {
		return ctx, nil
	}
	md, _ := metadata.FromIncomingContext(ctx) // a copy of its own
	md.Delete(CallerIdentityHeader)
	return metadata.NewIncomingContext(ctx, md), values
}

// isDirectoryMethod reports whether fullMethod is a DirectoryService or
// google.longrunning.Operations method: the calls that need a caller (or
// a token: an operation is seen only in its caller's scope), where health
// checks and reflection need none.
func isDirectoryMethod(fullMethod string) bool {
	return strings.HasPrefix(fullMethod, "/"+directoryv1.DirectoryService_ServiceDesc.ServiceName+"/") ||
		strings.HasPrefix(fullMethod, "/google.longrunning.Operations/")
}
