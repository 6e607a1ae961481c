package upstream

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/procore-directory/procore-directory/upstream/admission"
)

// Client calls Procore's company-user endpoints. It is safe for concurrent
// use; create one per upstream and share it, since it holds the connection
// pool and the per-credential rate-limit state.
type Client struct {
	base             string // scheme://host[/prefix], no trailing slash
	http             *http.Client
	tokens           TokenSource
	maxAttempts      int
	backoffBase      time.Duration
	backoffMax       time.Duration
	log              *slog.Logger
	maxResponseBytes int64
	userAgent        string

	// Admission, in the order it applies: a concurrency slot per
	// operation, the credential's rate limit and pacing, the breaker.
	slots       *admission.Limiter // nil: no limit
	limits      admission.Budgets
	pacingBurst int
	// limitsOpts configure the per-credential limits (WithBatchBudgetShare).
	limitsOpts []admission.LimitsOption
	// budgets, when set, makes the client's rate limits a shared
	// budget built over the in-process one (WithSharedBudgets).
	budgets    func(local *admission.Limits) admission.Budgets
	breakerCfg BreakerConfig
	breaker    *admission.Breaker // nil: disabled

	// writable is each writable field's JSON type (see Fields); syncable
	// holds the writable fields a sync item may carry.
	writable map[string]ValueKind
	syncable map[string]bool

	// Operations: observers and tracing.
	observers  observers
	tracer     trace.Tracer // nil: no spans
	propagator propagation.TextMapPropagator
	host       string

	// Seams for tests: the clock, waiting, and the jitter source.
	now    func() time.Time
	sleep  func(ctx context.Context, d time.Duration) error
	jitter func(n int64) int64
}

// New returns a client for the Procore API at baseURL (e.g.
// https://api.procore.com, or an emulator's URL).
func New(baseURL string, opts ...Option) (*Client, error) {
	u, err := url.Parse(baseURL)
	if err != nil {
		return nil, fmt.Errorf("upstream: base URL: %w", err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("upstream: base URL %q: want http(s)://host", baseURL)
	}
	if u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("upstream: base URL must not carry user info, a query or a fragment")
	}
	c := &Client{
		base:             strings.TrimRight(u.Scheme+"://"+u.Host+u.EscapedPath(), "/"),
		maxAttempts:      4,
		backoffBase:      100 * time.Millisecond,
		backoffMax:       5 * time.Second,
		maxResponseBytes: 1 << 20,
		userAgent:        "procore-directory/upstream",
		now:              time.Now,
		sleep:            sleepContext,
		jitter:           randInt64N,
		pacingBurst:      DefaultPacingBurst,
		propagator:       propagation.TraceContext{},
		host:             u.Hostname(),
		breakerCfg:       DefaultBreakerConfig(),
		writable:         writableKinds(),
		syncable:         syncableFields(),
	}
	for _, o := range opts {
		o(c)
	}
	if c.http == nil {
		c.http = NewHTTPClient()
	}
	if c.tokens == nil {
		c.tokens = PassThrough()
	}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	local := admission.NewLimits(c.pacingBurst, c.limitsOpts...)
	c.limits = local
	if c.budgets != nil {
		c.limits = c.budgets(local)
	}
	c.breaker = admission.NewBreaker(c.breakerCfg, c.observers.breakerState)
	return c, nil
}

// UpdateRequest is one update of a company user.
type UpdateRequest struct {
	CompanyID, UserID int64
	// Patch holds the fields to change; only those are sent.
	Patch Patch
	// RunConfigurableValidations, when set, is sent as the
	// run_configurable_validations query parameter.
	RunConfigurableValidations *bool
	// Avatar, when set, makes the request multipart/form-data with the
	// image as the `user[avatar]` part.
	Avatar *Avatar
}

// GetCompanyUser reads a company user (GET, retried on any transient
// failure).
func (c *Client) GetCompanyUser(ctx context.Context, companyID, userID int64) (*User, error) {
	cl, e := buildGet(companyID, userID)
	if e != nil {
		return nil, e
	}
	a, err := c.do(ctx, &cl)
	return a.user, err
}

// UpdateCompanyUser sends req.Patch (and the avatar) and returns the
// updated user. It is replayed only when Procore certainly did not apply
// it; see KindOutcomeUnknown. PreviewUpdate describes the same request.
func (c *Client) UpdateCompanyUser(ctx context.Context, req UpdateRequest) (*User, error) {
	cl, e := buildUpdate(req, c.writable)
	if e != nil {
		return nil, e
	}
	a, err := c.do(ctx, &cl)
	return a.user, err
}

// RateLimit returns the rate-limit state last seen for a credential ID
// (for metrics and health reporting).
func (c *Client) RateLimit(credentialID string) RateLimit {
	return c.limits.Admission(credentialID, c.now()).Snapshot()
}
