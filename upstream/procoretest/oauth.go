package procoretest

import (
	crand "crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"
)

// OAuthClient is one seeded OAuth application (a service account).
type OAuthClient struct {
	ClientID     string
	ClientSecret string
	// DirectoryAdmin grants the right to change admin-only fields.
	DirectoryAdmin bool
	// CompanyIDs are the companies the app is connected to.
	CompanyIDs []int64
}

// token is one issued access token with its own rate-limit windows, so
// limits are per token as Procore's are.
type token struct {
	client    *OAuthClient
	expiresAt time.Time
	mu        sync.Mutex
	hourly    window
	spike     window
}

// Clients returns the seeded OAuth clients (copies), so tests can pick
// credentials without repeating the fixture.
func (e *Emulator) Clients() []OAuthClient {
	e.mu.RLock()
	defer e.mu.RUnlock()
	out := make([]OAuthClient, len(e.clients))
	for i, c := range e.clients {
		c.CompanyIDs = slices.Clone(c.CompanyIDs)
		out[i] = c
	}
	return out
}

// AdminClient returns the first seeded client with Directory Admin rights,
// the one directoryd --dev and most tests act as so that every field can be
// changed; ok is false when the seed has none.
func (e *Emulator) AdminClient() (OAuthClient, bool) { return e.clientWhere(true) }

// NonAdminClient returns the first seeded client without Directory Admin
// rights, for tests of the admin-only fields; ok is false when the seed has
// none.
func (e *Emulator) NonAdminClient() (OAuthClient, bool) { return e.clientWhere(false) }

func (e *Emulator) clientWhere(admin bool) (OAuthClient, bool) {
	for _, c := range e.Clients() {
		if c.DirectoryAdmin == admin {
			return c, true
		}
	}
	return OAuthClient{}, false
}

// IssueToken mints an access token for a seeded client without the token
// endpoint, for tests that are not about authentication.
func (e *Emulator) IssueToken(clientID string) (string, error) {
	e.mu.RLock()
	c := e.clientMap[clientID]
	e.mu.RUnlock()
	if c == nil {
		return "", fmt.Errorf("procoretest: issue token: unknown OAuth client %q", clientID)
	}
	return e.issue(c)
}

func (e *Emulator) issue(c *OAuthClient) (string, error) {
	var b [32]byte
	if _, err := crand.Read(b[:]); err != nil {
		return "", fmt.Errorf("token entropy: %w", err)
	}
	s := base64.RawURLEncoding.EncodeToString(b[:])
	now := e.now()
	e.tokMu.Lock()
	defer e.tokMu.Unlock()
	if len(e.tokens) >= 10000 { // keep memory bounded in long runs
		for k, t := range e.tokens {
			if !now.Before(t.expiresAt) {
				delete(e.tokens, k)
			}
		}
	}
	e.tokens[s] = &token{client: c, expiresAt: now.Add(e.cfg.tokenTTL)}
	return s, nil
}

// ExpireTokens makes every issued token expire now, to test re-authentication.
func (e *Emulator) ExpireTokens() {
	now := e.now()
	e.tokMu.Lock()
	defer e.tokMu.Unlock()
	for _, t := range e.tokens {
		t.expiresAt = now
	}
}

// lookupToken resolves a bearer token; a non-empty problem is the 401
// error_description.
func (e *Emulator) lookupToken(r *http.Request) (*token, string) {
	auth := r.Header.Get("Authorization")
	scheme, tok, ok := strings.Cut(auth, " ")
	if auth == "" || !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(tok) == "" {
		return nil, "The access token is missing"
	}
	now := e.now()
	e.tokMu.Lock()
	t := e.tokens[strings.TrimSpace(tok)]
	expired := t != nil && !now.Before(t.expiresAt)
	e.tokMu.Unlock()
	if t == nil {
		return nil, "The access token is invalid"
	}
	if expired {
		return nil, "The access token expired"
	}
	return t, ""
}

// clientCredentials reads the token request's credentials: form body or
// HTTP Basic (RFC 6749 section 2.3.1 allows both).
func clientCredentials(r *http.Request, form url.Values) (string, string) {
	if id, secret, ok := r.BasicAuth(); ok {
		uid, err1 := url.QueryUnescape(id)
		usec, err2 := url.QueryUnescape(secret)
		if err1 == nil && err2 == nil {
			return uid, usec
		}
		return id, secret
	}
	return form.Get("client_id"), form.Get("client_secret")
}

// handleToken is POST /oauth/token, client_credentials only. It returns the
// reply and the client id it authenticated ("" if none) for the log.
func (e *Emulator) handleToken(r *http.Request) (*reply, string) {
	if r.Method != http.MethodPost {
		return notFoundReply(), ""
	}
	form := url.Values{}
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch ct {
	case "application/json":
		var m map[string]any
		if err := json.NewDecoder(http.MaxBytesReader(nil, r.Body, 1<<20)).Decode(&m); err != nil {
			return oauthError(http.StatusBadRequest, "invalid_request"), ""
		}
		for k, v := range m {
			if s, ok := v.(string); ok {
				form.Set(k, s)
			}
		}
	default:
		r.Body = http.MaxBytesReader(nil, r.Body, 1<<20)
		if err := r.ParseForm(); err != nil {
			return oauthError(http.StatusBadRequest, "invalid_request"), ""
		}
		form = r.PostForm
		for k, v := range r.URL.Query() { // Doorkeeper also reads the query
			if _, ok := form[k]; !ok {
				form[k] = v
			}
		}
	}
	id, secret := clientCredentials(r, form)
	e.mu.RLock()
	c := e.clientMap[id]
	e.mu.RUnlock()
	if c == nil || secret != c.ClientSecret {
		return oauthError(http.StatusUnauthorized, "invalid_client"), ""
	}
	if gt := form.Get("grant_type"); gt != "client_credentials" {
		if gt == "" {
			return oauthError(http.StatusBadRequest, "invalid_request"), c.ClientID
		}
		return oauthError(http.StatusBadRequest, "unsupported_grant_type"), c.ClientID
	}
	tok, err := e.issue(c)
	if err != nil {
		return &reply{status: http.StatusInternalServerError}, c.ClientID
	}
	b, _ := json.Marshal(map[string]any{
		"access_token": tok,
		"token_type":   "bearer",
		"expires_in":   int64(e.cfg.tokenTTL / time.Second),
		"created_at":   e.now().Unix(),
	})
	rep := jsonReply(http.StatusOK, b)
	rep.header().Set("Cache-Control", "no-store")
	rep.header().Set("Pragma", "no-cache")
	return rep, c.ClientID
}

func oauthError(status int, code string) *reply {
	return jsonReply(status, []byte(`{"error":"`+code+`"}`))
}
