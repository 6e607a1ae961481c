// Package redisqueue is the fleet's batch chunk queue (batch.Queue) in
// Redis, so that a chunk pushed by one directoryd replica is run by
// whichever replica claims it, and a replica killed mid-chunk loses
// nothing: another claims the chunk once its lease runs out, and reads it
// back first when its holder had marked it sending.
//
// It is a Redis Stream read through a consumer group (one consumer per
// queue, that is per replica process). XADD pushes, XREADGROUP claims new
// chunks, XAUTOCLAIM takes over chunks whose lease ran out (their idle
// time passed the lease, because their holder stopped renewing it), and
// the holder renews its leases by XCLAIMing its own entries again, which
// resets their idle time. The "sending" marker is a hash field beside the
// stream, written by the holder only (a script checks that it still holds
// the entry), so a later holder's MaybeSent is exact. Done acks, deletes
// and forgets the marker; Release makes the entry idle for years, so that
// the next claimer (any replica) takes it over at once.
//
// It only moves chunks: it does not know what a chunk's items are, and
// does not decide what to do when Redis cannot be reached (every error is
// returned wrapped; the runner decides). It imports service/batch for the
// contract and service/state/redisstate for the fleet's connection (OnConn),
// and must not import the service core, the server, upstream or the
// operations store.
package redisqueue
