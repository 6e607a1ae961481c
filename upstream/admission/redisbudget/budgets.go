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
	// DefaultWaiterTTL is how long an interactive attempt counts as
	// waiting, fleet-wide, after it last looked at the budget: it looks at
	// least every second while it waits, so only a replica that died
	// mid-wait lets it run out, and batch work then waits at most this
	// long for no one.
	DefaultWaiterTTL = 3 * time.Second
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
	// WhenUp runs f once the link is back up after it was down.
	WhenUp(f func(ctx context.Context) error)
}

// Budgets implements admission.Budgets over Redis.
type Budgets struct {
	link  Link
	local *admission.Limits
	burst int
	lease time.Duration
	poll  time.Duration
	wttl  time.Duration
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

// WithWaiterTTL sets DefaultWaiterTTL (at least a second more than the
// longest time between two looks of a waiting attempt, one second).
func WithWaiterTTL(d time.Duration) Option {
	return func(b *Budgets) {
		if d > 0 {
			b.wttl = d
		}
	}
}

// New returns budgets shared through link, paced in bursts of burst (0:
// no pacing, as admission.NewLimits), that fall back to local while link
// is down, then splitting each report by link.Replicas(). Batch attempts
// (admission.WithBatch) go after the interactive attempts of every replica
// waiting for the same credential, by local's batch budget share
// (admission.Limits.SetBatchBudgetShare, read at each attempt).
func New(link Link, local *admission.Limits, burst int, opts ...Option) *Budgets {
	b := &Budgets{link: link, local: local, burst: max(burst, 0), lease: DefaultLease, poll: DefaultPollInterval,
		wttl: DefaultWaiterTTL}
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
	return &attempt{b: b, keys: []string{k, k + ":inflight", k + ":waiting"}, local: b.local.For(id, now)}
}

// attempt is one attempt's admission.
type attempt struct {
	b      *Budgets
	keys   []string
	local  *admission.Budget
	member string // set when admitted in Redis
	// waiter names the attempt in the waiting set (set at its first look).
	waiter string
	batch  bool
}

// take looks once at the fleet's budget (takeScript) at t: the code, the
// wait it says, and the budget as stored.
func (a *attempt) take(ctx context.Context, t time.Time, member string) (int64, time.Duration, admission.RateLimit, error) {
	var deadline int64
	if dl, ok := ctx.Deadline(); ok {
		deadline = max(ms(dl), 1)
	}
	gain, ceiling := admission.BatchCredit(a.b.local.BatchBudgetShare())
	class := "0"
	if a.batch && gain >= 0 {
		class = "1"
	}
	rctx, cancel := context.WithTimeout(ctx, opTimeout)
	defer cancel()
	res, err := takeScript.Run(rctx, a.b.link.Client(), a.keys, ms(t), member, a.b.lease.Milliseconds(),
		a.b.burst, deadline, keyTTL.Milliseconds(), class, a.waiter, gain, ceiling, a.b.wttl.Milliseconds()).Int64Slice()
	if err != nil {
		return 0, 0, admission.RateLimit{}, err
	}
	rl := admission.RateLimit{Known: res[2] >= 0}
	if rl.Known {
		rl.Remaining, rl.Reset, rl.Limit = int(res[2]), time.UnixMilli(res[3]), int(res[4])
	}
	return res[0], time.Duration(res[1]) * time.Millisecond, rl, nil
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
	a.batch = admission.ClassOf(ctx) == admission.Batch
	a.waiter = newMember()
	for {
		if !a.b.link.Up() {
			return a.local.Acquire(ctx, now)
		}
		member := newMember()
		code, d, rl, err := a.take(ctx, now(), member)
		if err != nil {
			// It may have been admitted with the answer lost: give its
			// place back now (the caller gave up; Redis answers) or when
			// Redis is back.
			if ctx.Err() != nil {
				a.member = member
				a.cancel()
				return nil, ctx.Err()
			}
			a.b.releaseWhenUp(member, a.keys[1])
			a.b.link.Failed(ctx, err)
			continue // down now: local
		}
		if rl.Known {
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
			a.cancel()
			return nil, err
		}
	}
}

// cancel gives back an admission that will not be used, and ends the
// attempt's wait in the fleet's view (without Redis, the lease and the
// waiter TTL end them).
func (a *attempt) cancel() {
	if a.member == "" && (a.batch || !a.b.link.Up()) {
		return // nothing of it stored
	}
	ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
	defer cancel()
	if err := cancelScript.Run(ctx, a.b.link.Client(), a.keys, a.member, a.waiter).Err(); err != nil {
		a.b.link.Failed(ctx, err) // its lease and the waiter TTL free it, or Redis back
		a.b.releaseWhenUp(a.member, a.keys[1])
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
		a.b.link.Failed(ctx, err) // the attempt's lease frees its place, or Redis back
		a.b.releaseWhenUp(a.member, a.keys[1])
	}
	a.member = ""
}

// releaseWhenUp takes an attempt whose end Redis did not get out of its
// in-flight set once Redis is back (Link.WhenUp). A Redis that comes back
// with its data still counts it in flight, holding a place (and, while
// the budget is unknown, the one probe) until its lease, a minute.
func (b *Budgets) releaseWhenUp(member, inflight string) {
	if member == "" {
		return
	}
	b.link.WhenUp(func(ctx context.Context) error { return b.link.Client().ZRem(ctx, inflight, member).Err() })
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
