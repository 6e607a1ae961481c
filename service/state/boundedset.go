package state

import "sync"

// BoundedSet is a set kept in this process that holds at most a fixed
// number of members: what a replica learns about keys callers choose
// (companies, credentials) must not grow without limit. Past the bound
// nothing new is added, which costs the caller a repeated lesson, never
// correctness. It is safe for concurrent use.
type BoundedSet[K comparable] struct {
	max     int
	mu      sync.RWMutex
	members map[K]struct{}
}

// NewBoundedSet returns an empty set of at most max members (max <= 0:
// def).
func NewBoundedSet[K comparable](max, def int) *BoundedSet[K] {
	if max <= 0 {
		max = def
	}
	return &BoundedSet[K]{max: max, members: make(map[K]struct{})}
}

// Has reports whether k is a member.
func (s *BoundedSet[K]) Has(k K) bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	_, ok := s.members[k]
	return ok
}

// Add makes k a member unless the set is full.
func (s *BoundedSet[K]) Add(k K) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.members) < s.max {
		s.members[k] = struct{}{}
	}
}
