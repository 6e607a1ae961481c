package redisbudget

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/procore-directory/procore-directory/upstream/admission"
)

// Defaults.
const (
	// DefaultLease is how long an admitted attempt counts in flight
	// without its answer (after its paced wait): longer than any attempt,
	// so it only runs out for a replica that died mid-attempt.
	DefaultLease = time.Minute
	// DefaultPollInterval is how often an attempt waiting for others'
	// answers looks at the budget again.
	DefaultPollInterval = 20 * time.Millisecond
	// keyTTL keeps a credential's state past Procore's longest window
	// (an hour).
	keyTTL = 2 * time.Hour
	// opTimeout bounds one script run.
	opTimeout = 2 * time.Second
)

// Link is the shared Redis connection and its health (redisstate.Conn):
// while it is down, admission is local.
type Link interface {
	Client() redis.Cmdable
	Key(name string) string
	Up() bool
	Failed(ctx context.Context, err error)
	Replicas() int
}

// Budgets implements admission.Budgets over Redis.
type Budgets struct {
	link  Link
	local *admission.Limits
	burst int
	lease time.Duration
	poll  time.Duration
}

// Option configures Budgets.
type Option func(*Budgets)

// WithLease sets DefaultLease.
func WithLease(d time.Duration) Option {
	return func(b *Budgets) {
		if d > 0 {
			b.lease = d
		}
	}
}

// WithPollInterval sets DefaultPollInterval.
func WithPollInterval(d time.Duration) Option {
	return func(b *Budgets) {
		if d > 0 {
			b.poll = d
		}
	}
}

// New returns budgets shared through link, paced in bursts of burst (0:
// no pacing, as admission.NewLimits), that fall back to local while link
// is down, then splitting each report by link.Replicas().
func New(link Link, local *admission.Limits, burst int, opts ...Option) *Budgets {
	b := &Budgets{link: link, local: local, burst: max(burst, 0), lease: DefaultLease, poll: DefaultPollInterval}
	for _, o := range opts {
		o(b)
	}
	local.SetShare(link.Replicas)
	return b
}

// Admission implements admission.Budgets: each attempt remembers whether
// it was admitted in Redis or locally, and is released there.
func (b *Budgets) Admission(id string, now time.Time) admission.Admission {
	sum := sha256.Sum256([]byte(id)) // a credential ID is not secret, but keep keys uniform
	k := b.link.Key("budget:" + hex.EncodeToString(sum[:12]))
	return &attempt{b: b, keys: []string{k, k + ":inflight"}, local: b.local.For(id, now)}
}

// attempt is one attempt's admission.
type attempt struct {
	b      *Budgets
	keys   []string
	local  *admission.Budget
	member string // set when admitted in Redis
}

func ms(t time.Time) int64 { return t.UnixMilli() }

// Acquire implements admission.Admission.
func (a *attempt) Acquire(ctx context.Context, now func() time.Time) (*admission.Spent, error) {
	var timer *time.Timer
	defer func() {
		if timer != nil {
			timer.Stop()
		}
	}()
	wait := func(d time.Duration) error {
		if timer == nil {
			timer = time.NewTimer(d)
		} else {
			timer.Reset(d)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-timer.C:
			return nil
		}
	}
	for {
		if !a.b.link.Up() {
			return a.local.Acquire(ctx, now)
		}
		t := now()
		var deadline int64
		if dl, ok := ctx.Deadline(); ok {
			deadline = max(ms(dl), 1)
		}
		member := newMember()
		rctx, cancel := context.WithTimeout(ctx, opTimeout)
		res, err := takeScript.Run(rctx, a.b.link.Client(), a.keys, ms(t), member, a.b.lease.Milliseconds(),
			a.b.burst, deadline, keyTTL.Milliseconds()).Int64Slice()
		cancel()
		if err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			a.b.link.Failed(ctx, err)
			continue // down now: local
		}
		code, d := res[0], time.Duration(res[1])*time.Millisecond
		rl := admission.RateLimit{Known: res[2] >= 0}
		if rl.Known {
			rl.Remaining, rl.Reset, rl.Limit = int(res[2]), time.UnixMilli(res[3]), int(res[4])
			a.local.Observe(rl, true, false) // the fallback starts from the fleet's view
		}
		switch code {
		case 1:
			a.member = member
			if d <= 0 {
				return nil, nil
			}
			if err := wait(d); err != nil {
				a.cancel()
				return nil, err
			}
			return nil, nil
		case 2:
			return &admission.Spent{RetryAfter: d, RateLimit: rl}, nil
		}
		// Not now: others' answers are awaited (look again soon) or the
		// window is spent (until its reset, looking at least each second
		// so that a change of Redis's health is noticed).
		if d <= 0 {
			d = a.b.poll
		}
		if err := wait(min(d, time.Second)); err != nil {
			return nil, err
		}
	}
}

// cancel gives back an admission that will not be used.
func (a *attempt) cancel() {
	ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
	defer cancel()
	if err := cancelScript.Run(ctx, a.b.link.Client(), a.keys, a.member).Err(); err != nil {
		a.b.link.Failed(ctx, err) // its lease frees it
	}
	a.member = ""
}

// Release implements admission.Admission.
func (a *attempt) Release(rl admission.RateLimit, reported, answered bool) {
	if a.member == "" {
		a.local.Release(rl, reported, answered)
		return
	}
	a.local.Observe(rl, reported, answered)
	ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
	defer cancel()
	var reset int64
	if reported {
		reset = ms(rl.Reset)
	}
	err := releaseScript.Run(ctx, a.b.link.Client(), a.keys, a.member, flag(reported), rl.Limit, rl.Remaining, reset,
		flag(answered), keyTTL.Milliseconds(), ms(time.Now())).Err()
	if err != nil {
		a.b.link.Failed(ctx, err) // the attempt's lease frees its place
	}
	a.member = ""
}

// Snapshot implements admission.Admission: the budget as last seen, from
// this replica's answers and the fleet's state at its last admission.
func (a *attempt) Snapshot() admission.RateLimit { return a.local.Snapshot() }

func flag(b bool) string {
	if b {
		return "1"
	}
	return "0"
}

func newMember() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
