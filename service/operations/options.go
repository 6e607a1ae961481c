package operations

import "time"

// StoreOption configures a MemoryStore or a RedisStore.
type StoreOption func(*storeConfig)

type storeConfig struct {
	retention time.Duration
	now       func() time.Time
	poll      time.Duration
	prefix    string
	// blocking, when set, is called each time Wait is about to block
	// (after its subscription and read): tests synchronise on it.
	blocking func()
}

func newStoreConfig(opts []StoreOption) storeConfig {
	c := storeConfig{retention: DefaultRetention, now: time.Now, poll: DefaultWaitPoll, prefix: "directoryd:"}
	for _, o := range opts {
		o(&c)
	}
	return c
}

// DefaultWaitPoll is how often a RedisStore's Wait re-reads the operation
// besides its pub/sub wake-ups, in case a message was lost (a reconnect).
const DefaultWaitPoll = time.Second

// WithRetention sets how long a done operation stays readable
// (--operation-retention; DefaultRetention). Values <= 0 keep the default.
func WithRetention(d time.Duration) StoreOption {
	return func(c *storeConfig) {
		if d > 0 {
			c.retention = d
		}
	}
}

// WithClock replaces time.Now, for tests of retention without sleeping.
func WithClock(now func() time.Time) StoreOption { return func(c *storeConfig) { c.now = now } }

// WithWaitPoll sets a RedisStore's safety-net re-read interval
// (DefaultWaitPoll). Values <= 0 keep the default.
func WithWaitPoll(d time.Duration) StoreOption {
	return func(c *storeConfig) {
		if d > 0 {
			c.poll = d
		}
	}
}

// WithKeyPrefix starts every Redis key and channel of a RedisStore
// (default "directoryd:", redisstate.DefaultPrefix).
func WithKeyPrefix(p string) StoreOption { return func(c *storeConfig) { c.prefix = p } }
