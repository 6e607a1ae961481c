package redisstate

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/procore-directory/procore-directory/service/state"
)

// Idempotency store defaults.
const (
	// DefaultClaimLease is how long a claim holds its key without an
	// answer: longer than any call (the call time-out bounds them), so it
	// only runs out when the replica running the call died; then a retry
	// under the same request_id may run it again.
	DefaultClaimLease = 2 * time.Minute
	// DefaultPollInterval is how often a call waiting for another
	// replica's answer (or lock) looks again.
	DefaultPollInterval = 25 * time.Millisecond
)

// claimScript claims a key for a fingerprint, atomically.
// KEYS: record hash, run key. ARGV: fingerprint, lease ms, retention ms,
// claim token. Returns {1} claimed, {2} reused for another request,
// {3, answer} answered, {4} a call runs under it elsewhere.
var claimScript = redis.NewScript(`
local fp = redis.call('HGET', KEYS[1], 'fp')
if not fp then
  redis.call('HSET', KEYS[1], 'fp', ARGV[1])
  redis.call('PEXPIRE', KEYS[1], ARGV[3])
  redis.call('SET', KEYS[2], ARGV[4], 'PX', ARGV[2])
  return {1}
end
if fp ~= ARGV[1] then return {2} end
local ans = redis.call('HGET', KEYS[1], 'answer')
if ans then return {3, ans} end
if redis.call('SET', KEYS[2], ARGV[4], 'NX', 'PX', ARGV[2]) then return {1} end
return {4}
`)

// releaseScript ends a claim. KEYS: record hash, run key. ARGV: claim
// token, retention ms, "1" to keep the answer, answer.
var releaseScript = redis.NewScript(`
if redis.call('GET', KEYS[2]) == ARGV[1] then redis.call('DEL', KEYS[2]) end
if ARGV[3] == '1' then redis.call('HSET', KEYS[1], 'answer', ARGV[4]) end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 1
`)

// IdempotencyStore is a state.IdempotencyStore shared by the fleet: the
// same request_id sent to two replicas runs one call, and the other gets
// its answer. A claim is a key with a lease (a replica that dies while
// running the call frees it when the lease runs out); waiters poll.
//
// While Redis is down it claims and releases in its local store instead:
// a retry that lands on another replica then runs again (degraded).
type IdempotencyStore struct {
	conn      *Conn
	local     state.IdempotencyStore
	retention time.Duration
	lease     time.Duration
	poll      time.Duration

	mu     sync.Mutex
	claims map[string]string // key → claim token in Redis, or "" when claimed locally
}

// StoreOption configures an IdempotencyStore.
type StoreOption func(*IdempotencyStore)

// WithClaimLease sets DefaultClaimLease.
func WithClaimLease(d time.Duration) StoreOption {
	return func(s *IdempotencyStore) {
		if d > 0 {
			s.lease = d
		}
	}
}

// WithStorePollInterval sets DefaultPollInterval for waiters.
func WithStorePollInterval(d time.Duration) StoreOption {
	return func(s *IdempotencyStore) {
		if d > 0 {
			s.poll = d
		}
	}
}

// NewIdempotencyStore returns a store on conn that keeps answers for
// retention and falls back to local while Redis is down.
func NewIdempotencyStore(conn *Conn, local state.IdempotencyStore, retention time.Duration, opts ...StoreOption) *IdempotencyStore {
	s := &IdempotencyStore{conn: conn, local: local, retention: retention, lease: DefaultClaimLease,
		poll: DefaultPollInterval, claims: make(map[string]string)}
	for _, o := range opts {
		o(s)
	}
	return s
}

// keys returns the record and run keys of an idempotency key: its SHA-256,
// since the key carries the caller's identity.
func (s *IdempotencyStore) keys(key string) []string {
	sum := sha256.Sum256([]byte(key))
	h := s.conn.Key("idem:" + hex.EncodeToString(sum[:]))
	return []string{h, h + ":run"}
}

// Claim implements state.IdempotencyStore.
func (s *IdempotencyStore) Claim(ctx context.Context, key string, fp []byte) ([]byte, error) {
	var timer *time.Timer
	defer func() {
		if timer != nil {
			timer.Stop()
		}
	}()
	for {
		if !s.conn.Up() {
			return s.claimLocal(ctx, key, fp)
		}
		token := newToken()
		res, err := claimScript.Run(ctx, s.conn.Client(), s.keys(key), fp, s.lease.Milliseconds(), s.retention.Milliseconds(), token).Slice()
		if err != nil {
			if cause := callerGaveUp(ctx); cause != nil {
				return nil, &state.WaitError{What: "the first call with this request_id", Err: cause}
			}
			s.conn.Failed(ctx, err)
			return s.claimLocal(ctx, key, fp)
		}
		switch code, _ := res[0].(int64); code {
		case 1:
			s.setClaim(key, token)
			return nil, nil
		case 2:
			return nil, fmt.Errorf("%w", state.ErrKeyReused)
		case 3:
			ans, _ := res[1].(string)
			return []byte(ans), nil
		}
		// A call runs under the key on some replica: look again soon.
		if timer == nil {
			timer = time.NewTimer(s.poll)
		} else {
			timer.Reset(s.poll)
		}
		select {
		case <-ctx.Done():
			return nil, &state.WaitError{What: "the first call with this request_id", Err: context.Cause(ctx)}
		case <-timer.C:
		}
	}
}

func (s *IdempotencyStore) claimLocal(ctx context.Context, key string, fp []byte) ([]byte, error) {
	ans, err := s.local.Claim(ctx, key, fp)
	if err == nil && ans == nil {
		s.setClaim(key, "")
	}
	return ans, err
}

func (s *IdempotencyStore) setClaim(key, token string) {
	s.mu.Lock()
	s.claims[key] = token
	s.mu.Unlock()
}

// Release implements state.IdempotencyStore. A claim taken locally is
// released locally; one taken in Redis is released there, and if Redis is
// unreachable by then, its lease frees it.
func (s *IdempotencyStore) Release(ctx context.Context, key string, answer []byte) error {
	s.mu.Lock()
	token, ok := s.claims[key]
	delete(s.claims, key)
	s.mu.Unlock()
	if !ok {
		return fmt.Errorf("idempotency store: release of a key not claimed")
	}
	if token == "" {
		return s.local.Release(ctx, key, answer)
	}
	keep := "0"
	if answer != nil {
		keep = "1"
	}
	err := releaseScript.Run(ctx, s.conn.Client(), s.keys(key), token, s.retention.Milliseconds(), keep, answer).Err()
	if err != nil {
		s.conn.Failed(ctx, err)
		return fmt.Errorf("idempotency store: release in Redis (its lease will free the key): %w", err)
	}
	return nil
}

// newToken is a random claim or lease token.
func newToken() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
