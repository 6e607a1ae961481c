package auth

import (
	"context"
	"strings"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"

	"github.com/procore-directory/procore-directory/service/apierr"
	"github.com/procore-directory/procore-directory/upstream"
)

// PassThroughAuth returns the interceptor of pass-through mode: the caller's
// `authorization: Bearer <token>` metadata (the HTTP Authorization header
// through the gateway) is the Procore access token, handed to the upstream
// client through the context. A DirectoryService call without one fails
// with UNAUTHENTICATED before any upstream call. Other services (health,
// reflection) need no token.
func PassThroughAuth() grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		if !isDirectoryMethod(info.FullMethod) {
			return handler(ctx, req)
		}
		token, ok := bearerToken(ctx)
		if !ok {
			return nil, apierr.New(codes.Unauthenticated, apierr.ReasonMissingCredentials,
				"missing credentials: send `authorization: Bearer <Procore access token>`", nil)
		}
		return handler(upstream.ContextWithToken(ctx, token), req)
	}
}

// bearerToken extracts the token of a single `authorization: Bearer` entry.
func bearerToken(ctx context.Context) (string, bool) {
	values := metadata.ValueFromIncomingContext(ctx, "authorization")
	if len(values) != 1 {
		return "", false
	}
	scheme, token, found := strings.Cut(values[0], " ")
	token = strings.TrimSpace(token)
	if !found || !strings.EqualFold(scheme, "bearer") || token == "" {
		return "", false
	}
	return token, true
}
