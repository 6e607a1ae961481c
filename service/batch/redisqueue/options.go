package redisqueue

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"os"
	"time"
)

// Defaults of the options.
const (
	// DefaultLease is how long a chunk stays with a replica that stopped
	// renewing it (--batch-lease) before another may claim it: long
	// enough that a slow moment (a stalled CPU, a GC pause, a Redis
	// failover) does not hand a live replica's chunk to another, short
	// enough that a killed replica's chunks resume soon.
	DefaultLease = 30 * time.Second
	// DefaultPoll is the longest a Claim waits on new chunks before it
	// looks again for chunks whose lease ran out or that were released.
	DefaultPoll = time.Second
	// DefaultPrefix starts every key (redisstate.DefaultPrefix, so that a
	// fleet's keys share one prefix).
	DefaultPrefix = "directoryd:"
)

// config is what the options set.
type config struct {
	prefix   string
	lease    time.Duration
	poll     time.Duration
	consumer string
	log      *slog.Logger
	failed   func(context.Context, error) // OnConn: the connection's health
}

// Option configures a Queue.
type Option func(*config)

// WithKeyPrefix starts every key (DefaultPrefix); use the prefix of the
// fleet's redisstate.Conn, so that several fleets can share one Redis.
func WithKeyPrefix(p string) Option { return func(c *config) { c.prefix = p } }

// WithLease sets how long a chunk whose holder stopped renewing stays
// with it (DefaultLease). The holder renews every third of it. Every
// replica of a fleet must use the same lease. Values <= 0 keep the default.
func WithLease(d time.Duration) Option {
	return func(c *config) {
		if d > 0 {
			c.lease = d
		}
	}
}

// WithPoll sets how long a Claim blocks on new chunks before it looks
// again for expired or released ones (DefaultPoll, and at most a third of
// the lease). Values <= 0 keep the default.
func WithPoll(d time.Duration) Option {
	return func(c *config) {
		if d > 0 {
			c.poll = d
		}
	}
}

// WithConsumer names this queue's consumer in the group (default: the
// host name, the process id and a random suffix, unique per process). Two
// live queues must never share a name: each would renew the other's
// chunks as its own.
func WithConsumer(name string) Option {
	return func(c *config) {
		if name != "" {
			c.consumer = name
		}
	}
}

// WithLogger sets where lost leases and failed renewals are logged
// (default: discard).
func WithLogger(l *slog.Logger) Option {
	return func(c *config) {
		if l != nil {
			c.log = l
		}
	}
}

func newConfig(opts []Option) config {
	c := config{prefix: DefaultPrefix, lease: DefaultLease, poll: DefaultPoll, log: slog.New(slog.DiscardHandler)}
	for _, o := range opts {
		o(&c)
	}
	c.poll = min(c.poll, c.lease/3)
	if c.consumer == "" {
		c.consumer = defaultConsumer()
	}
	return c
}

// defaultConsumer is unique per process: a restarted replica is a new
// consumer, and its predecessor's chunks are claimed after their lease.
func defaultConsumer() string {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "directoryd"
	}
	var b [4]byte
	_, _ = rand.Read(b[:])
	return fmt.Sprintf("%s-%d-%s", host, os.Getpid(), hex.EncodeToString(b[:]))
}
