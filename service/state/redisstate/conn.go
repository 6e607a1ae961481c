package redisstate

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

// Connection defaults. Redis answers in well under a millisecond on a
// healthy network; the time-outs are short so that an unreachable Redis
// costs a call at most one short wait before it falls back to local state.
const (
	// DefaultTimeout bounds dialling, each read and each write.
	DefaultTimeout = time.Second
	// DefaultProbeInterval is how often Redis is pinged and this replica's
	// presence renewed.
	DefaultProbeInterval = time.Second
	// DefaultPrefix starts every key directoryd writes.
	DefaultPrefix = "directoryd:"
)

// Conn is a Redis connection shared by the fleet's state, with its health:
// Up is false from the first failed command until a probe succeeds again.
// While down, the state built on it uses local fallbacks and sends Redis
// nothing, so calls do not pay a time-out each.
type Conn struct {
	client   *redis.Client
	prefix   string
	interval time.Duration
	timeout  time.Duration
	log      *slog.Logger
	onChange func(up bool)
	id       string // this replica's presence key member

	up       atomic.Bool
	replicas atomic.Int64 // replicas seen at the last probe (at least 1)

	mu        sync.Mutex
	downSince time.Time
	lastErr   string
	whenUp    []func(context.Context) error // WhenUp's, run when Redis is back

	stop context.CancelFunc
	done chan struct{}
	// poke asks the probe to run now: a command timed out, which may be
	// a slow moment (a starved CPU) rather than Redis gone.
	poke chan struct{}
}

// Option configures a Conn.
type Option func(*Conn)

// WithPassword sets the password when the URL carries none (directoryd
// reads it from DIRECTORYD_REDIS_PASSWORD, so it never shows in a process
// listing).
func WithPassword(p string) Option {
	return func(c *Conn) {
		if p != "" && c.client.Options().Password == "" {
			c.client.Options().Password = p
		}
	}
}

// WithLogger sets where changes of state are logged (default: discard).
func WithLogger(l *slog.Logger) Option {
	return func(c *Conn) {
		if l != nil {
			c.log = l
		}
	}
}

// WithStateChange calls f with each change of Up (and once at start), for
// the directoryd_shared_state_up metric.
func WithStateChange(f func(up bool)) Option { return func(c *Conn) { c.onChange = f } }

// WithProbeInterval sets how often Redis is probed (DefaultProbeInterval).
func WithProbeInterval(d time.Duration) Option {
	return func(c *Conn) {
		if d > 0 {
			c.interval = d
		}
	}
}

// WithTimeout bounds each read and write of a command and a probe
// (DefaultTimeout). A probe slower than this counts as Redis gone, so a
// host starved of CPU (a loaded test machine) may want more.
func WithTimeout(d time.Duration) Option {
	return func(c *Conn) {
		if d > 0 {
			c.timeout = d
			c.client.Options().ReadTimeout, c.client.Options().WriteTimeout = d, d
		}
	}
}

// WithPrefix sets the prefix of every key (DefaultPrefix), so that several
// fleets can share one Redis.
func WithPrefix(p string) Option { return func(c *Conn) { c.prefix = p } }

// ParseURL checks a --redis-url: redis://[user:password@]host:port/db,
// rediss:// for TLS, or unix://[user:password@]/path/to/redis.sock?db=N
// for a Redis on the same host (the tests' own redis-server listens only
// there).
func ParseURL(raw string) (*redis.Options, error) {
	o, err := redis.ParseURL(raw)
	if err != nil {
		return nil, fmt.Errorf("redis URL: %w", err) // go-redis never quotes the password
	}
	return o, nil
}

// Open connects to the Redis at rawURL and starts probing it. Redis need
// not be reachable yet: Open does not fail for that, the state starts
// degraded and turns shared when the first probe succeeds. Close stops the
// probe and the connection.
func Open(ctx context.Context, rawURL string, opts ...Option) (*Conn, error) {
	o, err := ParseURL(rawURL)
	if err != nil {
		return nil, err
	}
	o.DialTimeout, o.ReadTimeout, o.WriteTimeout = DefaultTimeout, DefaultTimeout, DefaultTimeout
	o.PoolTimeout = 2 * DefaultTimeout
	o.MaxRetries = -1 // fail fast: a failed command falls back to local state
	o.ContextTimeoutEnabled = true
	var b [8]byte
	_, _ = rand.Read(b[:])
	c := &Conn{client: redis.NewClient(o), prefix: DefaultPrefix, interval: DefaultProbeInterval, timeout: DefaultTimeout,
		log: slog.New(slog.DiscardHandler), id: hex.EncodeToString(b[:]), done: make(chan struct{}), poke: make(chan struct{}, 1)}
	c.replicas.Store(1)
	for _, opt := range opts {
		opt(c)
	}
	c.mu.Lock()
	c.downSince, c.lastErr = time.Now(), "not probed yet"
	c.mu.Unlock()
	if c.onChange != nil {
		c.onChange(false)
	}
	c.probe(ctx)
	if !c.Up() {
		c.log.Warn("shared state: Redis unreachable at start; serving with local state (degraded) until it answers",
			"redis", c.Addr(), "err", c.lastError())
	}
	pctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	c.stop = cancel
	go c.loop(pctx)
	return c, nil
}

// Client is the Redis client, for the state built on this connection.
func (c *Conn) Client() redis.Cmdable { return c.client }

// Key returns the prefixed key of name.
func (c *Conn) Key(name string) string { return c.prefix + name }

// Addr is Redis's address, for logs (never the password).
func (c *Conn) Addr() string { return c.client.Options().Addr }

// Up reports whether Redis answered the last command or probe.
func (c *Conn) Up() bool { return c.up.Load() }

// Replicas is how many replicas renewed their presence in Redis at the
// last probe (at least 1): the estimate by which a degraded replica splits
// a shared budget. It keeps its last value while Redis is down.
func (c *Conn) Replicas() int { return int(c.replicas.Load()) }

// Failed records a failed command: unless it is a Redis answer (a missing
// key, a script's refusal) or the caller's own context, Redis is taken to
// be unreachable until the next successful probe. A time-out only makes
// the probe run at once (its longer time-out decides): one slow answer
// under load must not split the fleet's budget.
func (c *Conn) Failed(ctx context.Context, err error) {
	if err == nil || errors.Is(err, redis.Nil) || callerGaveUp(ctx) != nil {
		return
	}
	var nerr net.Error
	if errors.Is(err, os.ErrDeadlineExceeded) || errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &nerr) && nerr.Timeout()) {
		select {
		case c.poke <- struct{}{}:
		default:
		}
		return
	}
	var rerr redis.Error
	if errors.As(err, &rerr) && !isConnectivity(rerr) {
		c.log.Error("shared state: Redis refused a command", "err", err)
		return
	}
	c.setDown(err)
}

// callerGaveUp returns why the caller gave up (context.Cause(ctx), or
// context.DeadlineExceeded once the deadline has passed), or nil. A
// command cut off by the caller's deadline fails with an i/o time-out (go-redis
// sets the connection's deadline from ctx's) a moment before ctx itself
// reports it; taken for Redis being unreachable, that failure would hand
// the caller a local claim or lock while another replica holds the shared
// one.
func callerGaveUp(ctx context.Context) error {
	if ctx.Err() != nil {
		return context.Cause(ctx)
	}
	if d, ok := ctx.Deadline(); ok && !time.Now().Before(d) {
		return context.DeadlineExceeded
	}
	return nil
}

// isConnectivity tells server answers that mean "cannot serve now"
// (loading, read-only replica, ...) from answers to a bad command.
func isConnectivity(err redis.Error) bool {
	msg := err.Error()
	for _, p := range []string{"LOADING", "READONLY", "MASTERDOWN", "CLUSTERDOWN", "TRYAGAIN", "NOAUTH", "WRONGPASS"} {
		if len(msg) >= len(p) && msg[:len(p)] == p {
			return true
		}
	}
	return false
}

func (c *Conn) setDown(err error) {
	c.mu.Lock()
	c.lastErr = err.Error()
	c.mu.Unlock()
	if c.up.CompareAndSwap(true, false) {
		c.mu.Lock()
		c.downSince = time.Now()
		c.mu.Unlock()
		c.log.Warn("shared state: Redis unreachable; serving with local state (degraded): budget split by estimate, locks and request_id records local",
			"redis", c.Addr(), "replicas_estimate", c.Replicas(), "err", err)
		if c.onChange != nil {
			c.onChange(false)
		}
	}
}

func (c *Conn) setUp() {
	if c.up.CompareAndSwap(false, true) {
		c.log.Info("shared state: Redis reachable; replicas share state", "redis", c.Addr(), "replicas", c.Replicas())
		if c.onChange != nil {
			c.onChange(true)
		}
		go c.runWhenUp()
	}
}

// maxWhenUp bounds the work kept for when Redis is back; beyond it, the
// leases of what it would release free it.
const maxWhenUp = 10_000

// WhenUp keeps f to run once Redis is back (the next time the probe finds
// it after it was down): what this replica could not tell Redis while it
// was gone, or told it with the answer lost (a lock it let go of, a
// budget place it gave back). A Redis that comes back with its data
// (persistence, a promoted replica) still holds those until their leases
// run out; f frees them at once. An f that fails is kept for the next
// time. f must be safe to run late: guarded by a token, say.
func (c *Conn) WhenUp(f func(ctx context.Context) error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.whenUp) < maxWhenUp {
		c.whenUp = append(c.whenUp, f)
	}
}

// runWhenUp runs the kept work, keeping what fails (and what is left
// once Redis is down again) for the next time.
func (c *Conn) runWhenUp() {
	c.mu.Lock()
	work := c.whenUp
	c.whenUp = nil
	c.mu.Unlock()
	for i, f := range work {
		if !c.Up() {
			for _, g := range work[i:] {
				c.WhenUp(g)
			}
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), c.timeout)
		err := f(ctx)
		cancel()
		if err != nil {
			c.Failed(context.Background(), err)
			c.WhenUp(f)
		}
	}
}

func (c *Conn) lastError() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lastErr
}

// Status describes the shared state for /readyz: shared, or degraded
// since when and why. Readiness does not depend on it: a degraded replica
// still serves.
func (c *Conn) Status() string {
	if c.Up() {
		return fmt.Sprintf("shared state: up (redis %s, %d replicas)", c.Addr(), c.Replicas())
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return fmt.Sprintf("shared state: degraded since %s (redis %s unreachable: %s); serving with local state",
		c.downSince.UTC().Format(time.RFC3339), c.Addr(), c.lastErr)
}

// loop probes Redis until Close.
func (c *Conn) loop(ctx context.Context) {
	defer close(c.done)
	t := time.NewTicker(c.interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			c.probe(ctx)
		case <-c.poke:
			c.probe(ctx)
		}
	}
}

// probe pings Redis and renews this replica's presence (a sorted set
// scored by expiry), counting the replicas present.
func (c *Conn) probe(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, 4*c.timeout)
	defer cancel()
	now := time.Now()
	key := c.Key("replicas")
	var card *redis.IntCmd
	_, err := c.client.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.ZAdd(ctx, key, redis.Z{Score: float64(now.Add(3 * c.interval).UnixMilli()), Member: c.id})
		p.ZRemRangeByScore(ctx, key, "-inf", fmt.Sprint(now.UnixMilli()))
		card = p.ZCard(ctx, key)
		p.PExpire(ctx, key, 10*c.interval)
		return nil
	})
	if err != nil {
		if ctx.Err() == nil || !errors.Is(err, context.Canceled) {
			c.setDown(err)
		}
		return
	}
	c.replicas.Store(max(card.Val(), 1))
	c.setUp()
}

// Close stops probing, withdraws this replica's presence and closes the
// connection.
func (c *Conn) Close() error {
	if c.stop != nil {
		c.stop()
		<-c.done
	}
	if c.Up() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*c.timeout)
		_ = c.client.ZRem(ctx, c.Key("replicas"), c.id).Err()
		cancel()
	}
	return c.client.Close()
}
