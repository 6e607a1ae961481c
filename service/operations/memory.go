package operations

import (
	"context"
	"slices"
	"strings"
	"sync"
	"time"

	"cloud.google.com/go/longrunning/autogen/longrunningpb"
	"google.golang.org/protobuf/proto"
)

// MemoryStore keeps operations in this process: the store of a single
// replica. A restart loses them (the batch runner fails the unfinished
// ones it knew of). Done operations are dropped after the retention,
// lazily, when the store is next used.
type MemoryStore struct {
	cfg storeConfig

	mu    sync.Mutex
	ops   map[string]*memRecord // by name
	byRID map[string]string     // hashKey(scope, request_id) -> name
}

type memRecord struct {
	scope, ridKey, fingerprint string
	member                     string // indexMember, for List's order
	op                         *longrunningpb.Operation
	cancel                     bool
	expires                    time.Time // zero while running
	changed                    chan struct{}
}

var _ Store = (*MemoryStore)(nil)

// NewMemoryStore returns an empty MemoryStore (WithRetention, WithClock).
func NewMemoryStore(opts ...StoreOption) *MemoryStore {
	return &MemoryStore{cfg: newStoreConfig(opts), ops: map[string]*memRecord{}, byRID: map[string]string{}}
}

// live is the record of name in scope, nil when absent, expired or
// another scope's. Call with mu held.
func (s *MemoryStore) live(scope, name string) *memRecord {
	r := s.ops[name]
	if r == nil || r.scope != scope || s.expired(name, r) {
		return nil
	}
	return r
}

// expired drops r when its retention is over. Call with mu held.
func (s *MemoryStore) expired(name string, r *memRecord) bool {
	if r.expires.IsZero() || s.cfg.now().Before(r.expires) {
		return false
	}
	s.remove(name, r)
	return true
}

func (s *MemoryStore) remove(name string, r *memRecord) {
	delete(s.ops, name)
	if r.ridKey != "" && s.byRID[r.ridKey] == name {
		delete(s.byRID, r.ridKey)
	}
}

// sweep drops every expired record. Call with mu held.
func (s *MemoryStore) sweep() {
	for name, r := range s.ops {
		s.expired(name, r)
	}
}

// Create implements Store.
func (s *MemoryStore) Create(_ context.Context, n CreateRequest) (*longrunningpb.Operation, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sweep()
	var ridKey string
	if n.RequestID != "" {
		ridKey = hashKey(n.Scope, n.RequestID)
		if name, ok := s.byRID[ridKey]; ok {
			r := s.ops[name]
			if r.fingerprint != n.Fingerprint {
				return nil, false, ErrRequestIDReused
			}
			return proto.Clone(r.op).(*longrunningpb.Operation), false, nil
		}
	}
	name := newName()
	id, _ := operationID(name)
	op := &longrunningpb.Operation{Name: name, Metadata: n.Metadata}
	s.ops[name] = &memRecord{scope: n.Scope, ridKey: ridKey, fingerprint: n.Fingerprint,
		member: indexMember(s.cfg.now(), id), op: proto.Clone(op).(*longrunningpb.Operation), changed: make(chan struct{})}
	if ridKey != "" {
		s.byRID[ridKey] = name
	}
	return op, true, nil
}

// Get implements Store.
func (s *MemoryStore) Get(_ context.Context, scope, name string) (*longrunningpb.Operation, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.live(scope, name)
	if r == nil {
		return nil, ErrNotFound
	}
	return proto.Clone(r.op).(*longrunningpb.Operation), nil
}

// List implements Store.
func (s *MemoryStore) List(_ context.Context, scope string, pageSize int, pageToken string) ([]*longrunningpb.Operation, string, error) {
	after, err := parsePageToken(pageToken)
	if err != nil {
		return nil, "", err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sweep()
	var mine []*memRecord
	for _, r := range s.ops {
		if r.scope == scope && (after == "" || r.member < after) {
			mine = append(mine, r)
		}
	}
	slices.SortFunc(mine, func(a, b *memRecord) int { return strings.Compare(b.member, a.member) })
	next := ""
	if len(mine) > pageSize {
		mine = mine[:pageSize]
		next = encodePageToken(mine[pageSize-1].member)
	}
	out := make([]*longrunningpb.Operation, len(mine))
	for i, r := range mine {
		out[i] = proto.Clone(r.op).(*longrunningpb.Operation)
	}
	return out, next, nil
}

// Wait implements Store.
func (s *MemoryStore) Wait(ctx context.Context, scope, name string) (*longrunningpb.Operation, error) {
	for {
		s.mu.Lock()
		r := s.live(scope, name)
		if r == nil {
			s.mu.Unlock()
			return nil, ErrNotFound
		}
		op, changed := proto.Clone(r.op).(*longrunningpb.Operation), r.changed
		s.mu.Unlock()
		if op.GetDone() {
			return op, nil
		}
		if s.cfg.blocking != nil {
			s.cfg.blocking()
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return op, ctx.Err()
		}
	}
}

// Update implements Store.
func (s *MemoryStore) Update(_ context.Context, name string, fn func(*longrunningpb.Operation) error) (*longrunningpb.Operation, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.ops[name]
	if r == nil || s.expired(name, r) {
		return nil, ErrNotFound
	}
	return s.apply(r, fn)
}

// apply runs fn on a copy of r's operation and keeps the result unless fn
// fails. Call with mu held.
func (s *MemoryStore) apply(r *memRecord, fn func(*longrunningpb.Operation) error) (*longrunningpb.Operation, error) {
	op := proto.Clone(r.op).(*longrunningpb.Operation)
	if fn != nil {
		if err := fn(op); err != nil {
			return nil, err
		}
	}
	op.Name = r.op.GetName()
	if op.GetDone() && r.expires.IsZero() {
		r.expires = s.cfg.now().Add(s.cfg.retention)
	}
	r.op = op
	close(r.changed)
	r.changed = make(chan struct{})
	return proto.Clone(op).(*longrunningpb.Operation), nil
}

// Cancel implements Store.
func (s *MemoryStore) Cancel(_ context.Context, scope, name string, mark func(*longrunningpb.Operation) error) (*longrunningpb.Operation, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.live(scope, name)
	if r == nil {
		return nil, ErrNotFound
	}
	if r.op.GetDone() {
		return proto.Clone(r.op).(*longrunningpb.Operation), nil
	}
	op, err := s.apply(r, mark)
	if err != nil {
		return nil, err
	}
	r.cancel = true
	return op, nil
}

// CancelRequested implements Store.
func (s *MemoryStore) CancelRequested(_ context.Context, name string) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.ops[name]
	if r == nil || s.expired(name, r) {
		return false, ErrNotFound
	}
	return r.cancel, nil
}

// Delete implements Store.
func (s *MemoryStore) Delete(_ context.Context, scope, name string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.live(scope, name)
	if r == nil {
		return ErrNotFound
	}
	if !r.op.GetDone() {
		return ErrNotDone
	}
	s.remove(name, r)
	return nil
}
