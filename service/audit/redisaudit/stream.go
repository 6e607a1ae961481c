// Package redisaudit is the fleet's audit trail in Redis: one Stream that
// every replica appends its events to (XADD, bounded by MAXLEN ~), so the
// fleet has one ordered trail, and that ListAuditEvents reads back.
//
// Its one job is that Stream. It must not import the service core, the
// server or net/http: the Recorder (service/audit) writes through it.
package redisaudit

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"

	"github.com/redis/go-redis/v9"

	"github.com/procore-directory/procore-directory/service/audit"
	"github.com/procore-directory/procore-directory/service/state/redisstate"
)

// DefaultMaxEvents bounds the Stream (--audit-max-events): XADD trims it
// to about this many entries, the oldest first.
const DefaultMaxEvents = 1_000_000

// streamKey is the Stream's name, under the connection's key prefix.
const streamKey = "audit"

// field is the one field of each Stream entry: the event's JSON line.
const field = "event"

// Stream is the Redis Stream sink.
type Stream struct {
	conn *redisstate.Conn
	max  int64
}

// New returns the sink over conn, keeping about maxEvents entries
// (DefaultMaxEvents when not positive).
func New(conn *redisstate.Conn, maxEvents int64) *Stream {
	if maxEvents <= 0 {
		maxEvents = DefaultMaxEvents
	}
	return &Stream{conn: conn, max: maxEvents}
}

// Name implements audit.Sink.
func (*Stream) Name() string { return "redis" }

// Write implements audit.Sink: one XADD with MAXLEN ~ per line, in one
// pipeline (one round trip for a sync's items). A failure marks the
// connection down (the shared state's health), so the next update sees it.
func (s *Stream) Write(ctx context.Context, lines [][]byte) error {
	key := s.conn.Key(streamKey)
	_, err := s.conn.Client().Pipelined(ctx, func(p redis.Pipeliner) error {
		for _, line := range lines {
			p.XAdd(ctx, &redis.XAddArgs{Stream: key, MaxLen: s.max, Approx: true, Values: []any{field, line}})
		}
		return nil
	})
	if err != nil {
		s.conn.Failed(ctx, err)
		return fmt.Errorf("audit: redis XADD: %w", err)
	}
	return nil
}

// Down implements audit.Downer: the connection's health, as its probe and
// its commands last found it.
func (s *Stream) Down() bool { return !s.conn.Up() }

// streamID is the shape of a Stream entry id, a cursor of Read.
var streamID = regexp.MustCompile(`^\d+-\d+$`)

// Read implements audit.Reader: XRANGE after the cursor (a Stream id).
func (s *Stream) Read(ctx context.Context, after string, n int) ([]audit.Entry, error) {
	start := "-"
	if after != "" {
		if !streamID.MatchString(after) {
			return nil, audit.ErrPageToken
		}
		start = "(" + after
	}
	msgs, err := s.conn.Client().XRangeN(ctx, s.conn.Key(streamKey), start, "+", int64(n)).Result()
	if err != nil {
		s.conn.Failed(ctx, err)
		return nil, fmt.Errorf("audit: redis XRANGE: %w", err)
	}
	out := make([]audit.Entry, 0, len(msgs))
	for _, m := range msgs {
		var e audit.Event
		line, _ := m.Values[field].(string)
		if json.Unmarshal([]byte(line), &e) != nil {
			continue
		}
		out = append(out, audit.Entry{Cursor: m.ID, Event: e})
	}
	return out, nil
}
