package server

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"cloud.google.com/go/longrunning/autogen/longrunningpb"
	"github.com/redis/go-redis/v9"

	directoryv1 "github.com/procore-directory/procore-directory/gen/procore/directory/v1"
	"github.com/procore-directory/procore-directory/service"
	"github.com/procore-directory/procore-directory/service/batch"
	"github.com/procore-directory/procore-directory/service/operations"
	"github.com/procore-directory/procore-directory/service/state/redisstate"
	"github.com/procore-directory/procore-directory/service/telemetry"
)

// BatchConfig configures BatchUpdateCompanyUsers and the
// google.longrunning.Operations service beside it.
type BatchConfig struct {
	// MaxItems is --max-batch-items.
	MaxItems int
	// ChunkSize is --sync-batch-size: items per Procore sync request.
	ChunkSize int
	// OperationRetention is --operation-retention: how long a done
	// operation stays readable.
	OperationRetention time.Duration
	// Lease is --batch-lease: how long a claimed chunk's lease lives
	// without renewal in the fleet's queue.
	Lease time.Duration
	// BudgetShare is --batch-budget-share (admission.WithBatchBudgetShare).
	BudgetShare float64
	// SharedQueue, when set and SharedState is, builds the fleet's chunk
	// queue on the shared Redis (service/batch/redisqueue); without it
	// chunks use this replica's memory queue even with Redis.
	SharedQueue func(conn *redisstate.Conn, lease time.Duration) (batch.Queue, error)
	// Store, when set, replaces the operation store (memory, or Redis
	// with SharedState).
	Store operations.Store
}

// directoryServer is DirectoryService: the core's single-user methods and
// the batch's BatchUpdateCompanyUsers.
type directoryServer struct {
	*service.Service
	batch *batch.Batcher
	*auditLister
}

// BatchUpdateCompanyUsers implements DirectoryService.
func (d directoryServer) BatchUpdateCompanyUsers(ctx context.Context, req *directoryv1.BatchUpdateCompanyUsersRequest) (*longrunningpb.Operation, error) {
	return d.batch.Submit(ctx, req)
}

// batchParts builds the batch runner and the Operations server over one
// operation store, and starts the runner.
func (cfg *Config) batchParts(svc *service.Service, up service.Upstream, log *slog.Logger) (*batch.Batcher, *operations.Server, error) {
	bc := cfg.Batch
	store := bc.Store
	if store == nil {
		storeOpts := []operations.StoreOption{operations.WithRetention(bc.OperationRetention)}
		store = operations.NewMemoryStore(storeOpts...)
		if conn := cfg.SharedState; conn != nil {
			client, ok := conn.Client().(redis.UniversalClient)
			if !ok {
				return nil, nil, fmt.Errorf("batch: the shared Redis client cannot hold operations")
			}
			store = operations.NewRedisStore(client, append(storeOpts, operations.WithKeyPrefix(conn.Key("")))...)
		}
	}
	opts := []batch.Option{batch.WithMaxItems(bc.MaxItems), batch.WithChunkSize(bc.ChunkSize), batch.WithLogger(log)}
	var metrics *telemetry.BatchMetrics
	if t := cfg.Telemetry; t != nil {
		m, err := t.BatchMetrics()
		if err != nil {
			return nil, nil, err
		}
		metrics = m
		opts = append(opts, batch.WithObserver(m))
	}
	if conn := cfg.SharedState; conn != nil {
		opts = append(opts, batch.WithSyncRefusals(redisstate.NewSyncRefusals(conn, batch.NewSyncRefusals(0))))
	}
	if bc.SharedQueue != nil && cfg.SharedState != nil {
		q, err := bc.SharedQueue(cfg.SharedState, bc.Lease)
		if err != nil {
			return nil, nil, fmt.Errorf("batch queue: %w", err)
		}
		opts = append(opts, batch.WithQueue(q))
	}
	syncer, _ := up.(batch.Syncer) // a test's fake Upstream: single PATCHes only
	b, err := batch.New(svc, syncer, store, opts...)
	if err != nil {
		return nil, nil, err
	}
	if metrics != nil {
		for name, q := range b.QueueDepths() {
			if err := metrics.ChunksQueued(name, q.Depth); err != nil {
				return nil, nil, err
			}
		}
	}
	ops, err := operations.NewServer(batch.PublicStore(store), operations.WithScope(svc.Scope), operations.WithCancelMark(batch.CancelMark))
	if err != nil {
		return nil, nil, err
	}
	b.Start()
	return b, ops, nil
}
