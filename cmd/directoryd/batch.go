package main

import (
	"errors"
	"flag"
	"fmt"
	"time"

	"github.com/procore-directory/procore-directory/service/batch"
	"github.com/procore-directory/procore-directory/service/batch/redisqueue"
	"github.com/procore-directory/procore-directory/service/operations"
	"github.com/procore-directory/procore-directory/service/server"
	"github.com/procore-directory/procore-directory/service/state/redisstate"
	"github.com/procore-directory/procore-directory/upstream"
	"github.com/procore-directory/procore-directory/upstream/admission"
)

// BatchConfig is BatchUpdateCompanyUsers' configuration and its
// operations'.
type BatchConfig struct {
	MaxItems           int
	ChunkSize          int
	OperationRetention time.Duration
	BudgetShare        float64
	Lease              time.Duration
}

func (b *BatchConfig) register(fs *flag.FlagSet) {
	fs.IntVar(&b.MaxItems, "max-batch-items", batch.DefaultMaxItems, "the most items one BatchUpdateCompanyUsers may hold; a larger batch is refused (INVALID_ARGUMENT)")
	fs.IntVar(&b.ChunkSize, "sync-batch-size", batch.DefaultChunkSize, fmt.Sprintf("users per Procore sync request of a batch, 1 to %d (Procore's limit)", upstream.MaxSyncItems))
	fs.DurationVar(&b.OperationRetention, "operation-retention", operations.DefaultRetention, "how long a done long-running operation (and its request_id) stays readable")
	fs.Float64Var(&b.BudgetShare, "batch-budget-share", admission.DefaultBatchBudgetShare, admission.BatchBudgetShareUsage)
	fs.DurationVar(&b.Lease, "batch-lease", batch.DefaultLease, "with --redis-url: how long a replica's claim on a chunk of a batch lives without renewal; then another replica claims it (reading back what may have been sent)")
}

func (b *BatchConfig) validate() error {
	switch {
	case b.MaxItems <= 0:
		return errors.New("--max-batch-items must be positive")
	case b.ChunkSize <= 0 || b.ChunkSize > upstream.MaxSyncItems:
		return fmt.Errorf("--sync-batch-size must be from 1 to %d", upstream.MaxSyncItems)
	case b.OperationRetention <= 0:
		return errors.New("--operation-retention must be positive")
	case b.Lease <= 0:
		return errors.New("--batch-lease must be positive")
	}
	if err := admission.CheckBatchBudgetShare(b.BudgetShare); err != nil {
		return fmt.Errorf("--batch-budget-share: %w", err)
	}
	return nil
}

func (b *BatchConfig) apply(sc *server.Config) {
	sc.Batch.MaxItems = b.MaxItems
	sc.Batch.ChunkSize = b.ChunkSize
	sc.Batch.OperationRetention = b.OperationRetention
	sc.Batch.BudgetShare = b.BudgetShare
	sc.Batch.Lease = b.Lease
	// With --redis-url the fleet shares its chunks (Redis Streams); the
	// server builds the queue after sc.Logger is set.
	sc.Batch.SharedQueue = func(conn *redisstate.Conn, lease time.Duration) (batch.Queue, error) {
		return redisqueue.OnConn(conn, redisqueue.WithLease(lease), redisqueue.WithLogger(sc.Logger)), nil
	}
}
