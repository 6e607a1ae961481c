package procoretest

import (
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"time"
)

// Option configures an Emulator built by New or NewServer.
type Option func(*config) error

// config is the settled configuration of one emulator.
type config struct {
	seed           []byte
	hourlyLimit    int
	spikeLimit     int
	partialBodies  bool
	tokenTTL       time.Duration
	now            func() time.Time
	faults         Faults
	logger         *slog.Logger
	randSeed       int64
	randSeedSet    bool
	requestLogSize int
	adminFields    AdminFields
	responseShape  ResponseShape
	errorBody      ErrorBody
	nullClears     bool
	sync           SyncMode
	syncOrder      SyncOrder
	syncAllFailed  int
	syncMaxItems   int
}

func defaultConfig() config {
	return config{
		seed:           defaultSeed,
		hourlyLimit:    3600,
		spikeLimit:     25,
		tokenTTL:       5400 * time.Second,
		now:            time.Now,
		logger:         slog.New(slog.DiscardHandler),
		requestLogSize: 10000,
		adminFields:    AdminFieldsChanged,
		responseShape:  ResponseShapePublished,
		errorBody:      ErrorBodyRails,
		nullClears:     true,
		sync:           SyncAllowed,
		syncOrder:      SyncOrderInput,
		syncAllFailed:  http.StatusOK,
		syncMaxItems:   1000,
	}
}

// WithSeed loads the directory from JSON in the fixture format instead of the
// built-in seed, so a test can shape the data it needs.
func WithSeed(data []byte) Option {
	return func(c *config) error {
		c.seed = data
		return nil
	}
}

// WithSeedFile is WithSeed reading the fixture from a file (the --seed flag).
func WithSeedFile(path string) Option {
	return func(c *config) error {
		b, err := os.ReadFile(path)
		if err != nil {
			return fmt.Errorf("read seed file: %w", err)
		}
		c.seed = b
		return nil
	}
}

// WithHourlyLimit sets the per-token hourly request limit; 0 turns it off.
// Procore's pages show 3,600 (the default) and 600.
func WithHourlyLimit(n int) Option {
	return func(c *config) error {
		if n < 0 {
			return fmt.Errorf("hourly limit %d: must not be negative", n)
		}
		c.hourlyLimit = n
		return nil
	}
}

// WithSpikeLimit sets the per-token limit over a 10-second window; 0 turns it
// off. Default 25, as Procore's examples show.
func WithSpikeLimit(n int) Option {
	return func(c *config) error {
		if n < 0 {
			return fmt.Errorf("spike limit %d: must not be negative", n)
		}
		c.spikeLimit = n
		return nil
	}
}

// WithPartialBodies makes PATCH accept bodies without last_name or
// email_address, as real Procore was seen to do; by default they are
// required (400), following the published schema.
func WithPartialBodies(ok bool) Option {
	return func(c *config) error {
		c.partialBodies = ok
		return nil
	}
}

// WithTokenTTL sets the access-token lifetime (default 5400 s, published).
func WithTokenTTL(d time.Duration) Option {
	return func(c *config) error {
		if d <= 0 {
			return fmt.Errorf("token TTL %v: must be positive", d)
		}
		c.tokenTTL = d
		return nil
	}
}

// WithClock replaces time.Now for token expiry, rate-limit windows and
// timestamps, so tests are deterministic without sleeping.
func WithClock(now func() time.Time) Option {
	return func(c *config) error {
		if now == nil {
			return fmt.Errorf("clock: nil function")
		}
		c.now = now
		return nil
	}
}

// WithFaults sets the initial probabilistic faults (see SetFaults).
func WithFaults(f Faults) Option {
	return func(c *config) error {
		if err := f.validate(); err != nil {
			return err
		}
		c.faults = f
		return nil
	}
}

// WithLogger makes the emulator log each request with log/slog; by default
// it logs nothing.
func WithLogger(l *slog.Logger) Option {
	return func(c *config) error {
		if l == nil {
			return fmt.Errorf("logger: nil")
		}
		c.logger = l
		return nil
	}
}

// WithRandSeed seeds the random source that rolls probabilistic faults, so a
// test with a given seed sees the same sequence of faults every run.
func WithRandSeed(seed int64) Option {
	return func(c *config) error {
		c.randSeed = seed
		c.randSeedSet = true
		return nil
	}
}

// WithRequestLogSize bounds the request log (default 10,000 newest kept).
func WithRequestLogSize(n int) Option {
	return func(c *config) error {
		if n <= 0 {
			return fmt.Errorf("request log size %d: must be positive", n)
		}
		c.requestLogSize = n
		return nil
	}
}

// WithAdminFields sets how the admin-only fields are guarded for a client
// without Directory Admin (default AdminFieldsChanged); see AdminFields.
func WithAdminFields(m AdminFields) Option {
	return func(c *config) error {
		if err := m.UnmarshalText([]byte(m)); err != nil {
			return err
		}
		c.adminFields = m
		return nil
	}
}

// WithResponseShape sets the fields of the update and show 200s (default
// ResponseShapePublished); see ResponseShape. The index route and
// Emulator.User always render every stored attribute.
func WithResponseShape(s ResponseShape) Option {
	return func(c *config) error {
		if err := s.UnmarshalText([]byte(s)); err != nil {
			return err
		}
		c.responseShape = s
		return nil
	}
}

// WithErrorBody sets the body of the application's 400, 401 and 403
// answers (default ErrorBodyRails); see ErrorBody.
func WithErrorBody(b ErrorBody) Option {
	return func(c *config) error {
		if err := b.UnmarshalText([]byte(b)); err != nil {
			return err
		}
		c.errorBody = b
		return nil
	}
}

// WithNullClears decides what a PATCH field sent as JSON null (or, in a
// form, an empty value of a non-string field or of the avatar) does: true
// (the default, modelled) clears it; false answers 422 "can't be null",
// because Procore publishes no request field as nullable and a client must
// be testable against a Procore that refuses nulls. With false an empty
// string form value is stored as "" rather than cleared.
func WithNullClears(ok bool) Option {
	return func(c *config) error {
		c.nullClears = ok
		return nil
	}
}

// WithSync sets whether PATCH .../users/sync serves (default SyncAllowed);
// see SyncMode. The other modes let a client's fallback to single updates
// be tested.
func WithSync(m SyncMode) Option {
	return func(c *config) error {
		if err := m.UnmarshalText([]byte(m)); err != nil {
			return err
		}
		c.sync = m
		return nil
	}
}

// WithSyncOrder sets the order of a sync answer's entities and errors
// (default SyncOrderInput); Procore publishes none, see SyncOrder.
func WithSyncOrder(o SyncOrder) Option {
	return func(c *config) error {
		if err := o.UnmarshalText([]byte(o)); err != nil {
			return err
		}
		c.syncOrder = o
		return nil
	}
}

// WithSyncAllFailedStatus sets the status of a sync answer in which every
// item failed: 200 (the default; Procore's text says sync "will always
// return an HTTP status of 200") or 422 (modelled alternative, with the same
// body), because the published reference leaves it open.
func WithSyncAllFailedStatus(code int) Option {
	return func(c *config) error {
		if err := validSyncAllFailedStatus(code); err != nil {
			return err
		}
		c.syncAllFailed = code
		return nil
	}
}

// WithSyncMaxItems sets how many items one sync request may carry (default
// 1,000, published); more is a 400 for the whole request (modelled). Tests
// lower it to meet the limit without building a thousand items.
func WithSyncMaxItems(n int) Option {
	return func(c *config) error {
		if n <= 0 {
			return fmt.Errorf("sync max items %d: must be positive", n)
		}
		c.syncMaxItems = n
		return nil
	}
}
