package batch

import (
	"context"
	"sync/atomic"

	"github.com/procore-directory/procore-directory/service"
	"github.com/procore-directory/procore-directory/upstream"
)

// counterKey is the context key of a chunk's request counter.
type counterKey struct{}

// withCounter makes CountingUpstream count the calls made under ctx into n.
func withCounter(ctx context.Context, n *atomic.Int32) context.Context {
	return context.WithValue(ctx, counterKey{}, n)
}

// count adds one request to ctx's counter, if it has one.
func count(ctx context.Context) {
	if n, ok := ctx.Value(counterKey{}).(*atomic.Int32); ok {
		n.Add(1)
	}
}

// CountingUpstream wraps the core's Upstream so that the requests a batch
// chunk makes through the core (single PATCHes, fills, read-backs) count
// into its operation's procore_requests. Calls outside a chunk are passed
// through untouched. Wire the core with it (service.New(CountingUpstream(up))).
func CountingUpstream(up service.Upstream) service.Upstream { return countingUpstream{up} }

type countingUpstream struct{ service.Upstream }

func (c countingUpstream) GetCompanyUser(ctx context.Context, companyID, userID int64) (*upstream.User, error) {
	count(ctx)
	return c.Upstream.GetCompanyUser(ctx, companyID, userID)
}

func (c countingUpstream) UpdateCompanyUser(ctx context.Context, req upstream.UpdateRequest) (*upstream.User, error) {
	count(ctx)
	return c.Upstream.UpdateCompanyUser(ctx, req)
}
