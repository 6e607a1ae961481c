package operations

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"cloud.google.com/go/longrunning/autogen/longrunningpb"
	"github.com/redis/go-redis/v9"
	"google.golang.org/protobuf/proto"
)

// RedisStore keeps operations in Redis, so that every replica of a fleet
// sees the same ones: the batch runner on one replica updates an operation
// that a caller reads, awaits or cancels through another.
//
// Keys (after the prefix): `op:{id}` a hash (the scope, the serialized
// Operation, the cancel flag, the request fingerprint, the request_id key,
// the expiry and the index member); `ops:{hash of scope}` a sorted set of
// the scope's operations for List (members ordered by creation time, all
// of score 0, pruned lazily of expired ones); `opreq:{hash of scope and
// request_id}` the id a request_id made. Scopes and request ids appear only
// hashed. A done operation's keys expire after the retention (a Redis TTL;
// the expiry is also stored, read against the store's clock, so that tests
// need not sleep). Every change publishes on `opch:{id}`, which wakes Wait.
// Updates are optimistic transactions (WATCH/MULTI), retried on conflict.
type RedisStore struct {
	c   redis.UniversalClient
	cfg storeConfig
}

var _ Store = (*RedisStore)(nil)

// maxTxAttempts bounds the retries of one optimistic transaction that
// keeps losing to concurrent writers of the same operation.
const maxTxAttempts = 50

// NewRedisStore returns a RedisStore on c (WithRetention, WithClock,
// WithWaitPoll, WithKeyPrefix). It needs the client itself, not only
// redis.Cmdable: Wait subscribes and Update watches.
func NewRedisStore(c redis.UniversalClient, opts ...StoreOption) *RedisStore {
	return &RedisStore{c: c, cfg: newStoreConfig(opts)}
}

func (s *RedisStore) opKey(id string) string { return s.cfg.prefix + "op:" + id }
func (s *RedisStore) chKey(id string) string { return s.cfg.prefix + "opch:" + id }
func (s *RedisStore) idxKey(scope string) string {
	return s.cfg.prefix + "ops:" + hashKey(scope)
}

// redisRecord is an operation's hash, decoded.
type redisRecord struct {
	scope, fingerprint, ridKey, member string
	op                                 *longrunningpb.Operation
	cancel                             bool
	expires                            int64 // Unix ms; 0 while running
}

// read decodes the hash of id: nil when absent or past its expiry.
func (s *RedisStore) read(ctx context.Context, c redis.Cmdable, id string) (*redisRecord, error) {
	m, err := c.HGetAll(ctx, s.opKey(id)).Result()
	if err != nil {
		return nil, fmt.Errorf("operations: read %s: %w", id, err)
	}
	return s.decode(id, m)
}

func (s *RedisStore) decode(id string, m map[string]string) (*redisRecord, error) {
	if len(m) == 0 {
		return nil, nil
	}
	r := &redisRecord{scope: m["scope"], fingerprint: m["fp"], ridKey: m["rid"], member: m["member"], cancel: m["cancel"] == "1",
		op: &longrunningpb.Operation{}}
	r.expires, _ = strconv.ParseInt(m["exp"], 10, 64)
	if r.expires != 0 && s.cfg.now().UnixMilli() >= r.expires {
		return nil, nil
	}
	if err := proto.Unmarshal([]byte(m["op"]), r.op); err != nil {
		return nil, fmt.Errorf("operations: decode %s: %w", id, err)
	}
	return r, nil
}

// atomically runs fn in an optimistic transaction on keys, again while
// another client changes them first.
func (s *RedisStore) atomically(ctx context.Context, fn func(*redis.Tx) error, keys ...string) error {
	for range maxTxAttempts {
		err := s.c.Watch(ctx, fn, keys...)
		if !errors.Is(err, redis.TxFailedErr) {
			return err
		}
	}
	return fmt.Errorf("operations: %d conflicting transactions on %v: %w", maxTxAttempts, keys, redis.TxFailedErr)
}

// Create implements Store.
func (s *RedisStore) Create(ctx context.Context, n CreateRequest) (*longrunningpb.Operation, bool, error) {
	name := newName()
	id, _ := operationID(name)
	op := &longrunningpb.Operation{Name: name, Metadata: n.Metadata}
	raw, err := proto.Marshal(op)
	if err != nil {
		return nil, false, fmt.Errorf("operations: encode: %w", err)
	}
	member := indexMember(s.cfg.now(), id)
	write := func(p redis.Pipeliner, ridKey string) {
		p.HSet(ctx, s.opKey(id), "scope", n.Scope, "op", raw, "cancel", "0", "fp", n.Fingerprint, "rid", ridKey, "exp", "0", "member", member)
		p.ZAdd(ctx, s.idxKey(n.Scope), redis.Z{Member: member})
		if ridKey != "" {
			p.Set(ctx, ridKey, id, 0)
		}
	}
	if n.RequestID == "" {
		_, err := s.c.TxPipelined(ctx, func(p redis.Pipeliner) error { write(p, ""); return nil })
		if err != nil {
			return nil, false, fmt.Errorf("operations: create: %w", err)
		}
		return op, true, nil
	}
	ridKey := s.cfg.prefix + "opreq:" + hashKey(n.Scope, n.RequestID)
	var existing *longrunningpb.Operation
	err = s.atomically(ctx, func(tx *redis.Tx) error {
		existing = nil
		prev, err := tx.Get(ctx, ridKey).Result()
		if err != nil && !errors.Is(err, redis.Nil) {
			return fmt.Errorf("operations: read request_id: %w", err)
		}
		if prev != "" {
			r, err := s.read(ctx, tx, prev)
			if err != nil {
				return err
			}
			if r != nil && r.scope == n.Scope {
				if r.fingerprint != n.Fingerprint {
					return ErrRequestIDReused
				}
				existing = r.op
				return nil
			}
		}
		_, err = tx.TxPipelined(ctx, func(p redis.Pipeliner) error { write(p, ridKey); return nil })
		return err
	}, ridKey)
	switch {
	case err != nil:
		return nil, false, err
	case existing != nil:
		return existing, false, nil
	}
	return op, true, nil
}

// Get implements Store.
func (s *RedisStore) Get(ctx context.Context, scope, name string) (*longrunningpb.Operation, error) {
	id, ok := operationID(name)
	if !ok {
		return nil, ErrNotFound
	}
	r, err := s.read(ctx, s.c, id)
	if err != nil {
		return nil, err
	}
	if r == nil || r.scope != scope {
		return nil, ErrNotFound
	}
	return r.op, nil
}

// List implements Store.
func (s *RedisStore) List(ctx context.Context, scope string, pageSize int, pageToken string) ([]*longrunningpb.Operation, string, error) {
	after, err := parsePageToken(pageToken)
	if err != nil {
		return nil, "", err
	}
	idx := s.idxKey(scope)
	maxBound := "+"
	if after != "" {
		maxBound = "(" + after
	}
	var out []*longrunningpb.Operation
	last := ""
	for {
		want := pageSize - len(out) + 1 // one more tells whether a next page exists
		members, err := s.c.ZRevRangeByLex(ctx, idx, &redis.ZRangeBy{Max: maxBound, Min: "-", Count: int64(want)}).Result()
		if err != nil {
			return nil, "", fmt.Errorf("operations: list: %w", err)
		}
		recs, err := s.readMembers(ctx, members)
		if err != nil {
			return nil, "", err
		}
		for i, m := range members {
			r := recs[i]
			if r == nil || r.scope != scope {
				s.c.ZRem(ctx, idx, m) // expired or deleted: prune, best effort
				continue
			}
			if len(out) == pageSize {
				return out, encodePageToken(last), nil
			}
			out, last = append(out, r.op), m
		}
		if len(members) < want {
			return out, "", nil
		}
		maxBound = "(" + members[len(members)-1]
	}
}

// readMembers reads the records of index members in one round trip.
func (s *RedisStore) readMembers(ctx context.Context, members []string) ([]*redisRecord, error) {
	cmds := make([]*redis.MapStringStringCmd, len(members))
	ids := make([]string, len(members))
	_, err := s.c.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, m := range members {
			ids[i] = m[len(m)-36:]
			cmds[i] = p.HGetAll(ctx, s.opKey(ids[i]))
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("operations: list: %w", err)
	}
	recs := make([]*redisRecord, len(members))
	for i, c := range cmds {
		if recs[i], err = s.decode(ids[i], c.Val()); err != nil {
			return nil, err
		}
	}
	return recs, nil
}

// Wait implements Store: it subscribes to the operation's channel before
// reading it, so no change between the read and the wait is missed, and
// re-reads every poll interval in case a message was lost.
func (s *RedisStore) Wait(ctx context.Context, scope, name string) (*longrunningpb.Operation, error) {
	id, ok := operationID(name)
	if !ok {
		return nil, ErrNotFound
	}
	sub := s.c.Subscribe(ctx, s.chKey(id))
	defer sub.Close()
	if _, err := sub.Receive(ctx); err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, fmt.Errorf("operations: subscribe: %w", err)
	}
	wake := sub.Channel()
	tick := time.NewTicker(s.cfg.poll)
	defer tick.Stop()
	var last *longrunningpb.Operation
	for {
		op, err := s.Get(ctx, scope, name)
		if err != nil {
			if over := ended(ctx); last != nil && over != nil {
				return last, over // the wait's end cut a re-read: the state read before
			}
			return nil, err
		}
		last = op
		if op.GetDone() {
			return op, nil
		}
		if s.cfg.blocking != nil {
			s.cfg.blocking()
		}
		select {
		case <-wake:
		case <-tick.C:
		case <-ctx.Done():
			return op, ctx.Err()
		}
	}
}

// ended is ctx's error, or DeadlineExceeded from its deadline on: a
// command cut by the deadline (the connection's, set from it) may fail
// just before ctx's own timer marks it done.
func ended(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if d, ok := ctx.Deadline(); ok && !time.Now().Before(d) {
		return context.DeadlineExceeded
	}
	return nil
}

// Update implements Store.
func (s *RedisStore) Update(ctx context.Context, name string, fn func(*longrunningpb.Operation) error) (*longrunningpb.Operation, error) {
	return s.modify(ctx, name, nil, fn, false)
}

// Cancel implements Store.
func (s *RedisStore) Cancel(ctx context.Context, scope, name string, mark func(*longrunningpb.Operation) error) (*longrunningpb.Operation, error) {
	return s.modify(ctx, name, &scope, mark, true)
}

// modify is Update and Cancel: in one transaction, read the operation
// (in scope, when one is given), apply fn, write it back, start its
// retention once done, and publish the change. Cancel leaves a done
// operation as it is.
func (s *RedisStore) modify(ctx context.Context, name string, scope *string, fn func(*longrunningpb.Operation) error, cancel bool) (*longrunningpb.Operation, error) {
	id, ok := operationID(name)
	if !ok {
		return nil, ErrNotFound
	}
	key := s.opKey(id)
	var result *longrunningpb.Operation
	err := s.atomically(ctx, func(tx *redis.Tx) error {
		r, err := s.read(ctx, tx, id)
		if err != nil {
			return err
		}
		if r == nil || (scope != nil && r.scope != *scope) {
			return ErrNotFound
		}
		if cancel && r.op.GetDone() {
			result = r.op
			return nil
		}
		op := proto.Clone(r.op).(*longrunningpb.Operation)
		if fn != nil {
			if err := fn(op); err != nil {
				return err
			}
		}
		op.Name = name
		raw, err := proto.Marshal(op)
		if err != nil {
			return fmt.Errorf("operations: encode: %w", err)
		}
		_, err = tx.TxPipelined(ctx, func(p redis.Pipeliner) error {
			p.HSet(ctx, key, "op", raw)
			if cancel {
				p.HSet(ctx, key, "cancel", "1")
			}
			if op.GetDone() && r.expires == 0 {
				p.HSet(ctx, key, "exp", strconv.FormatInt(s.cfg.now().Add(s.cfg.retention).UnixMilli(), 10))
				p.PExpire(ctx, key, s.cfg.retention)
				if r.ridKey != "" {
					p.PExpire(ctx, r.ridKey, s.cfg.retention)
				}
			}
			p.Publish(ctx, s.chKey(id), "1")
			return nil
		})
		result = op
		return err
	}, key)
	if err != nil {
		return nil, err
	}
	return result, nil
}

// CancelRequested implements Store.
func (s *RedisStore) CancelRequested(ctx context.Context, name string) (bool, error) {
	id, ok := operationID(name)
	if !ok {
		return false, ErrNotFound
	}
	r, err := s.read(ctx, s.c, id)
	if err != nil {
		return false, err
	}
	if r == nil {
		return false, ErrNotFound
	}
	return r.cancel, nil
}

// Delete implements Store.
func (s *RedisStore) Delete(ctx context.Context, scope, name string) error {
	id, ok := operationID(name)
	if !ok {
		return ErrNotFound
	}
	key := s.opKey(id)
	return s.atomically(ctx, func(tx *redis.Tx) error {
		r, err := s.read(ctx, tx, id)
		if err != nil {
			return err
		}
		if r == nil || r.scope != scope {
			return ErrNotFound
		}
		if !r.op.GetDone() {
			return ErrNotDone
		}
		ridOwned := false
		if r.ridKey != "" {
			prev, err := tx.Get(ctx, r.ridKey).Result()
			if err != nil && !errors.Is(err, redis.Nil) {
				return fmt.Errorf("operations: read request_id: %w", err)
			}
			ridOwned = prev == id
		}
		_, err = tx.TxPipelined(ctx, func(p redis.Pipeliner) error {
			p.Del(ctx, key)
			p.ZRem(ctx, s.idxKey(scope), r.member)
			if ridOwned {
				p.Del(ctx, r.ridKey)
			}
			return nil
		})
		return err
	}, key)
}
