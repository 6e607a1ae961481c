package operations

import (
	"context"
	"errors"
	"time"

	"cloud.google.com/go/longrunning/autogen/longrunningpb"
	"google.golang.org/protobuf/types/known/anypb"
)

// DefaultRetention is how long a done operation stays readable
// (--operation-retention).
const DefaultRetention = 24 * time.Hour

// Errors of a Store. The Server turns them into gRPC statuses.
var (
	// ErrNotFound: no such operation in this scope (never created,
	// deleted, expired after its retention, or another caller's).
	ErrNotFound = errors.New("operation not found")
	// ErrNotDone: Delete of an operation that is still running.
	ErrNotDone = errors.New("operation not done")
	// ErrRequestIDReused: Create with a request_id already used in the
	// scope for a request with another fingerprint.
	ErrRequestIDReused = errors.New("request_id already used for a different request")
	// ErrInvalidPageToken: List with a page token this store did not make.
	ErrInvalidPageToken = errors.New("invalid page token")
)

// CreateRequest describes an operation to create.
type CreateRequest struct {
	// Scope is the caller the operation belongs to: only calls in the same
	// scope see it. The Server's WithScope function gives it.
	Scope string
	// RequestID, when set, dedupes (AIP-155): Create with the same Scope
	// and RequestID returns the operation the first Create made while it is
	// kept, instead of a new one.
	RequestID string
	// Fingerprint identifies the request (a hash of it, say): a repeat of
	// RequestID with another Fingerprint is ErrRequestIDReused.
	Fingerprint string
	// Metadata is the operation's initial metadata.
	Metadata *anypb.Any
}

// Store keeps operations. Every method is safe for concurrent use, and,
// with the Redis implementation, across replicas sharing one Redis.
//
// The methods that take a scope treat an operation of another scope
// exactly as a missing one (ErrNotFound). Update and CancelRequested take no
// scope: they are the runner's, which holds the name it created.
type Store interface {
	// Create stores a new, not done operation named `operations/{uuid}` and
	// returns it with created true; or, when n.RequestID was already used in
	// n.Scope by an operation still kept, returns that one with created
	// false (or ErrRequestIDReused when the fingerprints differ).
	Create(ctx context.Context, n CreateRequest) (op *longrunningpb.Operation, created bool, err error)
	// Get returns the operation's current state.
	Get(ctx context.Context, scope, name string) (*longrunningpb.Operation, error)
	// List returns up to pageSize operations of the scope, newest first,
	// and the token of the next page ("" on the last page).
	List(ctx context.Context, scope string, pageSize int, pageToken string) ([]*longrunningpb.Operation, string, error)
	// Wait returns the operation once it is done. When ctx ends first it
	// returns the latest state it read with ctx's error.
	Wait(ctx context.Context, scope, name string) (*longrunningpb.Operation, error)
	// Update applies fn to the operation atomically (no other Update,
	// Cancel or replica interleaves) and returns the result. An error from
	// fn leaves the operation unchanged and is returned. Name and the done
	// state's retention are the store's: fn must not rename the operation;
	// setting Done starts the retention clock and wakes every Wait.
	Update(ctx context.Context, name string, fn func(*longrunningpb.Operation) error) (*longrunningpb.Operation, error)
	// Cancel records that the caller asked to cancel the operation and, in
	// the same atomic step, applies mark (may be nil) to it, so that the
	// request shows at once (in the metadata, say). On a done operation it
	// changes nothing and succeeds.
	Cancel(ctx context.Context, scope, name string, mark func(*longrunningpb.Operation) error) (*longrunningpb.Operation, error)
	// CancelRequested reports whether Cancel was called on the operation.
	CancelRequested(ctx context.Context, name string) (bool, error)
	// Delete removes a done operation (ErrNotDone while it runs) and frees
	// its request_id.
	Delete(ctx context.Context, scope, name string) error
}
