package batch

import "context"

// Chunk is one unit of batch work: items of one operation sent together (one sync request, or
// single PATCHes for items sync cannot carry / after a fallback).
type Chunk struct {
	Operation string // "operations/{id}"
	Seq       int    // chunk number in the operation, from 0
	CompanyID int64
	Items     []Item // sorted by user id (locks are taken in this order)
	// Caller and CallID are who submitted the batch and the access log's
	// id of that call, for the audit events of its items (the runner no
	// longer has the caller's context).
	Caller string
	CallID string
}

// Item is one request of the batch, as validated at submission.
type Item struct {
	Index   int32  // index in BatchUpdateCompanyUsersRequest.requests
	Request []byte // deterministic proto encoding of the UpdateCompanyUserRequest (company_id filled)
}

// Queue hands chunks to runners, at least once; a chunk is never lost while its operation is kept.
type Queue interface {
	// Push adds the chunks of one operation, in order.
	Push(ctx context.Context, chunks []Chunk) error
	// Claim blocks until a chunk is available to this replica, or ctx ends. A chunk whose holder
	// stopped renewing its lease (--batch-lease, default 30s) is claimable again by any replica.
	Claim(ctx context.Context) (Claim, error)
	// Close stops the lease renewals of this queue's claims (at shutdown).
	Close() error
}

// Claim is one replica's lease on a chunk; the implementation renews the lease until Done or Release.
type Claim interface {
	Chunk() Chunk
	// MarkSending records durably, before any byte of the chunk goes to Procore, that it may be sent.
	MarkSending(ctx context.Context) error
	// MaybeSent reports whether an earlier holder marked this chunk sending: then it must be read
	// back (its items settled as applied / not applied / unknown), never resent blind.
	MaybeSent() bool
	// Done removes the chunk for good (its outcomes are already recorded in the operation).
	Done(ctx context.Context) error
	// Release gives the chunk back unsent (e.g. stopping before sending).
	Release(ctx context.Context) error
}

// Depther is what a Queue may also implement: its depth, the chunks
// pushed and not done yet (claimed or not), read at each scrape for the
// directoryd_batch_chunks_queued gauge. A batch whose chunks nobody
// claims (every runner dead, claims failing) has none in flight but a
// depth, which is how DirectorydBatchNoProgress sees it. It is apart from
// Queue so that the contract stays as it is: a queue without it has no
// depth series.
type Depther interface {
	Depth(ctx context.Context) (int, error)
}
