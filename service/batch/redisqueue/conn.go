package redisqueue

import (
	"context"

	"github.com/procore-directory/procore-directory/service/state/redisstate"
)

// OnConn returns a Queue on the fleet's shared Redis connection: its keys
// under the connection's prefix, and its failed commands reported to the
// connection (Conn.Failed), so that the replica's shared-state health
// sees them as it sees those of the other shared state. opts come after
// and may override the prefix.
func OnConn(conn *redisstate.Conn, opts ...Option) *Queue {
	return New(conn.Client(), append([]Option{WithKeyPrefix(conn.Key("")), withFailed(conn.Failed)}, opts...)...)
}

// withFailed sets what is told of each failed Redis command.
func withFailed(f func(context.Context, error)) Option { return func(c *config) { c.failed = f } }

// report tells the failure hook of err, a failed Redis command.
func (q *Queue) report(ctx context.Context, err error) {
	if err != nil && q.cfg.failed != nil {
		q.cfg.failed(ctx, err)
	}
}
