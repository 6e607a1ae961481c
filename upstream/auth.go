package upstream

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
)

// Credential is the access token for one request and a stable, non-secret
// name for it. The ID keys rate-limit state (Procore limits per token) and
// appears in logs and metrics, where the token itself must never go.
type Credential struct {
	// Token is the OAuth access token sent as `Authorization: Bearer`.
	Token string
	// ID names the credential without revealing it: the OAuth client id,
	// or "token:" and the first 8 hex digits of the token's SHA-256.
	ID string
}

// TokenSource supplies the credential for each request. It is called once
// per attempt, so a source that caches may hand out a fresh token on retry.
type TokenSource interface {
	Credential(ctx context.Context) (Credential, error)
}

// Refresher is implemented by token sources that can replace a token
// Procore rejected. After a 401 the client calls Refresh once with the
// credential that failed and retries once; a 401 means the request was not
// applied, so this is safe for PATCH too.
type Refresher interface {
	Refresh(ctx context.Context, failed Credential) error
}

// TokenID is the non-secret ID of a bare token: "token:" and the first 8
// hex digits of its SHA-256. Eight digits are plenty to tell a handful of
// live tokens apart and far too few to help guess one.
func TokenID(token string) string {
	sum := sha256.Sum256([]byte(token))
	return "token:" + hex.EncodeToString(sum[:4])
}

// tokenKey is the context key for ContextWithToken.
type tokenKey struct{}

// ContextWithToken returns a context carrying the caller's Procore access
// token, for PassThrough.
func ContextWithToken(ctx context.Context, token string) context.Context {
	return context.WithValue(ctx, tokenKey{}, token)
}

// TokenFromContext returns the token ContextWithToken stored, if any.
func TokenFromContext(ctx context.Context) (string, bool) {
	t, ok := ctx.Value(tokenKey{}).(string)
	return t, ok && t != ""
}

// PassThrough returns the TokenSource that forwards the caller's own token
// (from ContextWithToken), so Procore applies that person's permissions.
// Without a token it fails with ErrNoToken and nothing is sent.
func PassThrough() TokenSource { return passThrough{} }

type passThrough struct{}

func (passThrough) Credential(ctx context.Context) (Credential, error) {
	t, ok := TokenFromContext(ctx)
	if !ok {
		return Credential{}, fmt.Errorf("pass-through credentials: %w", ErrNoToken)
	}
	return Credential{Token: t, ID: TokenID(t)}, nil
}
