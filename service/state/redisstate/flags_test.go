package redisstate_test

import (
	"context"
	"testing"

	"github.com/procore-directory/procore-directory/service"
	"github.com/procore-directory/procore-directory/service/batch"
	"github.com/procore-directory/procore-directory/service/state/redisstate"
	"github.com/procore-directory/procore-directory/service/state/redisstate/redistest"
)

// TestLearntAcrossReplicas: what one replica learns about Procore (a
// company refuses partial bodies; sync is refused to a credential) the
// other knows at once, and only that.
func TestLearntAcrossReplicas(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t)
	a, b := replica(t, srv), replica(t, srv)
	waitUp(t, a, true)
	waitUp(t, b, true)
	ctx := context.Background()

	pa := redisstate.NewPartialBodies(a, service.NewPartialBodyMemory(0))
	pb := redisstate.NewPartialBodies(b, service.NewPartialBodyMemory(0))
	pa.Remember(ctx, 8089)
	if !pb.Has(ctx, 8089) || pb.Has(ctx, 5120) {
		t.Error("partial bodies: the other replica does not know exactly company 8089")
	}

	sa := redisstate.NewSyncRefusals(a, batch.NewSyncRefusals(0))
	sb := redisstate.NewSyncRefusals(b, batch.NewSyncRefusals(0))
	sa.Remember(ctx, "token:abc")
	if !sb.Has(ctx, "token:abc") || sb.Has(ctx, "") {
		t.Error("sync refusals: the other replica does not know exactly credential token:abc")
	}
}
