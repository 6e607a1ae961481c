package upstream

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
	"golang.org/x/sync/singleflight"
)

// ClientCredentialsOption configures ClientCredentials.
type ClientCredentialsOption func(*clientCredentials)

// WithRefreshBefore sets how long before its expiry a cached token is
// replaced (default 60s), so a token never expires between being handed out
// and reaching Procore. For short-lived tokens at most half the lifetime is
// used.
func WithRefreshBefore(d time.Duration) ClientCredentialsOption {
	return func(c *clientCredentials) { c.early = max(d, 0) }
}

// WithTokenHTTPClient sets the HTTP client for the token endpoint (default:
// NewHTTPClient()).
func WithTokenHTTPClient(hc *http.Client) ClientCredentialsOption {
	return func(c *clientCredentials) {
		if hc != nil {
			c.httpClient = hc
		}
	}
}

// WithTokenClock replaces time.Now for expiry decisions; tests use it to
// expire a token without waiting.
func WithTokenClock(now func() time.Time) ClientCredentialsOption {
	return func(c *clientCredentials) {
		if now != nil {
			c.now = now
		}
	}
}

// WithTokenFetchTimeout bounds one token request (default 30s). The fetch
// is shared by every caller waiting for it, so it does not run on any one
// caller's context.
func WithTokenFetchTimeout(d time.Duration) ClientCredentialsOption {
	return func(c *clientCredentials) {
		if d > 0 {
			c.fetchTimeout = d
		}
	}
}

// ClientCredentials returns a TokenSource for the service's own Procore
// credential (the OAuth client_credentials grant). The token is cached and
// replaced shortly before it expires; concurrent callers needing a new
// token share ONE token request, so a burst of calls at expiry does not
// become a burst at the token endpoint. It implements Refresher: a 401 from
// Procore invalidates the cached token (once, however many callers saw it).
// Credential.ID is the client id.
func ClientCredentials(cfg clientcredentials.Config, opts ...ClientCredentialsOption) TokenSource {
	c := &clientCredentials{
		cfg:          cfg,
		early:        60 * time.Second,
		now:          time.Now,
		fetchTimeout: 30 * time.Second,
	}
	for _, o := range opts {
		o(c)
	}
	if c.httpClient == nil {
		c.httpClient = NewHTTPClient()
	}
	return c
}

type clientCredentials struct {
	cfg          clientcredentials.Config
	early        time.Duration
	httpClient   *http.Client
	now          func() time.Time
	fetchTimeout time.Duration

	// fetches makes concurrent callers needing a new token share one
	// token request.
	fetches singleflight.Group

	mu        sync.Mutex
	token     string
	refreshAt time.Time // zero: never (no expiry given)
}

// Credential returns the cached token, or waits for the shared fetch of a
// new one (or for ctx to end).
func (c *clientCredentials) Credential(ctx context.Context) (Credential, error) {
	if cred, ok := c.cached(); ok {
		return cred, nil
	}
	// The fetch outlives any one caller: it runs without ctx's
	// cancellation, bounded by fetchTimeout.
	fetchCtx := context.WithoutCancel(ctx)
	ch := c.fetches.DoChan("token", func() (any, error) {
		// A caller that missed the cache just before another caller's
		// fetch stored its token, and arrives after that flight ended,
		// must take the stored token rather than fetch a second one.
		if cred, ok := c.cached(); ok {
			return cred, nil
		}
		return c.fetch(fetchCtx)
	})
	select {
	case r := <-ch:
		if r.Err != nil {
			return Credential{}, r.Err
		}
		return r.Val.(Credential), nil
	case <-ctx.Done():
		return Credential{}, ctx.Err()
	}
}

// cached returns the cached token while it is fresh.
func (c *clientCredentials) cached() (Credential, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.token != "" && (c.refreshAt.IsZero() || c.now().Before(c.refreshAt)) {
		return Credential{Token: c.token, ID: c.cfg.ClientID}, true
	}
	return Credential{}, false
}

// Refresh forgets the token Procore rejected, so that the next Credential
// fetches a new one. A failed credential that is no longer the cached one
// (another caller already refreshed) changes nothing.
func (c *clientCredentials) Refresh(_ context.Context, failed Credential) error {
	c.mu.Lock()
	if c.token == failed.Token {
		c.token = ""
	}
	c.mu.Unlock()
	return nil
}

// fetch requests a new token and caches it.
func (c *clientCredentials) fetch(ctx context.Context) (Credential, error) {
	ctx, cancel := context.WithTimeout(ctx, c.fetchTimeout)
	defer cancel()
	ctx = context.WithValue(ctx, oauth2.HTTPClient, c.httpClient)
	start := c.now()
	tok, err := c.cfg.Token(ctx)
	if err == nil && (tok == nil || tok.AccessToken == "") {
		err = errors.New("token endpoint returned no access token")
	}
	if err != nil {
		return Credential{}, &tokenError{clientID: c.cfg.ClientID, err: err}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.token = tok.AccessToken
	c.refreshAt = time.Time{}
	if !tok.Expiry.IsZero() {
		// oauth2 computes Expiry with the real clock; measure the lifetime
		// with it too, then express the refresh point on our clock.
		lifetime := time.Until(tok.Expiry)
		early := min(c.early, lifetime/2)
		c.refreshAt = start.Add(lifetime - early)
	}
	return Credential{Token: tok.AccessToken, ID: c.cfg.ClientID}, nil
}

// tokenError reports a failed token request without the token endpoint's
// body (which may echo submitted credentials); the cause stays available
// through Unwrap.
type tokenError struct {
	clientID string
	err      error
}

func (e *tokenError) Error() string {
	var re *oauth2.RetrieveError
	if errors.As(e.err, &re) {
		status := 0
		if re.Response != nil {
			status = re.Response.StatusCode
		}
		if re.ErrorCode != "" {
			return fmt.Sprintf("token request for client %q failed: status %d (%s)", e.clientID, status, re.ErrorCode)
		}
		return fmt.Sprintf("token request for client %q failed: status %d", e.clientID, status)
	}
	return fmt.Sprintf("token request for client %q failed: %v", e.clientID, e.err)
}

func (e *tokenError) Unwrap() error { return e.err }
