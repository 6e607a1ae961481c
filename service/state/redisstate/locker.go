package redisstate

import (
	"context"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/procore-directory/procore-directory/service/state"
)

// DefaultLockLease is how long a user's lock outlives its holder's last
// renewal: a replica that dies holding it frees the user after at most
// this long. The holder renews it every third of it.
const DefaultLockLease = 10 * time.Second

// renewScript extends a lease if it is still ours. KEYS: the lock. ARGV:
// our fencing token, lease ms.
var renewScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0
`)

// unlockScript deletes a lock if it is still ours. KEYS: the lock. ARGV:
// our fencing token.
var unlockScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`)

// Locker is a state.Locker shared by the fleet: one write per user at a
// time across every replica. A lock is a key holding a fencing token (from
// one counter, so tokens only grow) with a lease that its holder renews
// while it runs; a replica that dies frees its users when their leases run
// out, and a holder whose lease was lost (it stalled longer than the
// lease) can renew or delete nothing of the next holder's, since the token
// differs. Procore's PATCH takes no precondition, so the token cannot be
// checked there: a lost lease is logged with both tokens' order known.
//
// Each lock is also taken in a local MemoryLocker first, so a replica's
// own callers queue in memory, and while Redis is down the local lock
// alone serialises this replica's writes (degraded: not the fleet's).
type Locker struct {
	conn  *Conn
	local *state.MemoryLocker
	lease time.Duration
	poll  time.Duration
	log   *slog.Logger
}

// LockerOption configures a Locker.
type LockerOption func(*Locker)

// WithLockLease sets DefaultLockLease.
func WithLockLease(d time.Duration) LockerOption {
	return func(l *Locker) {
		if d > 0 {
			l.lease = d
		}
	}
}

// WithLockPollInterval sets how often a waiter looks again
// (DefaultPollInterval).
func WithLockPollInterval(d time.Duration) LockerOption {
	return func(l *Locker) {
		if d > 0 {
			l.poll = d
		}
	}
}

// NewLocker returns a Locker on conn.
func NewLocker(conn *Conn, opts ...LockerOption) *Locker {
	l := &Locker{conn: conn, local: state.NewMemoryLocker(), lease: DefaultLockLease, poll: DefaultPollInterval, log: conn.log}
	for _, o := range opts {
		o(l)
	}
	return l
}

// Lock implements state.Locker.
func (l *Locker) Lock(ctx context.Context, key string) (func(), error) {
	unlockLocal, err := l.local.Lock(ctx, key)
	if err != nil {
		return nil, err
	}
	k := l.conn.Key("lock:" + key)
	var timer *time.Timer
	defer func() {
		if timer != nil {
			timer.Stop()
		}
	}()
	for {
		if !l.conn.Up() {
			return unlockLocal, nil
		}
		token, ok, err := l.try(ctx, k)
		if err != nil {
			cause := callerGaveUp(ctx)
			// The SET NX may have been applied with its answer lost: if
			// the lock is ours, release it now (the caller gave up; Redis
			// answers) or when Redis is back, else its lease frees it.
			if token != "" && (cause == nil || l.release(k, token) != nil) {
				l.releaseWhenUp(k, token)
			}
			if cause != nil {
				unlockLocal()
				return nil, &state.WaitError{What: "the lock of a user", Err: cause}
			}
			l.conn.Failed(ctx, err)
			return unlockLocal, nil
		}
		if ok {
			return l.hold(k, token, unlockLocal), nil
		}
		if timer == nil {
			timer = time.NewTimer(l.poll)
		} else {
			timer.Reset(l.poll)
		}
		select {
		case <-ctx.Done():
			unlockLocal()
			return nil, &state.WaitError{What: "the lock of a user", Err: context.Cause(ctx)}
		case <-timer.C:
		}
	}
}

// try takes the lock if free, with a new fencing token (returned once
// drawn, even when the SET NX then failed).
func (l *Locker) try(ctx context.Context, k string) (token string, ok bool, err error) {
	n, err := l.conn.Client().Incr(ctx, l.conn.Key("lock-fence")).Result()
	if err != nil {
		return "", false, err
	}
	token = strconv.FormatInt(n, 10)
	ok, err = l.conn.Client().SetNX(ctx, k, token, l.lease).Result()
	return token, ok, err
}

// hold renews the lease until unlock, which deletes the lock (if still
// ours) and releases the local one.
func (l *Locker) hold(k, token string, unlockLocal func()) func() {
	stop, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(l.lease / 3)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
			}
			ctx, cancel := context.WithTimeout(context.Background(), l.lease/3)
			n, err := renewScript.Run(ctx, l.conn.Client(), []string{k}, token, l.lease.Milliseconds()).Int()
			cancel()
			switch {
			case err != nil:
				l.conn.Failed(context.Background(), err)
			case n == 0:
				l.log.Warn("shared state: a user's lock lease was lost while held; another replica may write the user too",
					"lock", k, "fencing_token", token)
				return
			}
		}
	}()
	var once sync.Once
	return func() {
		once.Do(func() {
			close(stop)
			<-done
			if !l.conn.Up() || l.release(k, token) != nil {
				l.releaseWhenUp(k, token) // else its lease frees it
			}
			unlockLocal()
		})
	}
}

// release deletes the lock k if it still holds token.
func (l *Locker) release(k, token string) error {
	ctx, cancel := context.WithTimeout(context.Background(), DefaultTimeout)
	defer cancel()
	err := unlock(ctx, l.conn, k, token)
	if err != nil {
		l.conn.Failed(context.Background(), err)
	}
	return err
}

// releaseWhenUp releases the lock k, if it still holds token, once Redis
// is back (Conn.WhenUp): the token guards the next holder's.
func (l *Locker) releaseWhenUp(k, token string) {
	l.conn.WhenUp(func(ctx context.Context) error { return unlock(ctx, l.conn, k, token) })
}

// unlock runs unlockScript: delete k if it holds token.
func unlock(ctx context.Context, conn *Conn, k, token string) error {
	return unlockScript.Run(ctx, conn.Client(), []string{k}, token).Err()
}
