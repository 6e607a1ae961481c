package batch

import (
	"context"
	"errors"

	"cloud.google.com/go/longrunning/autogen/longrunningpb"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/proto"

	directoryv1 "github.com/procore-directory/procore-directory/gen/procore/directory/v1"
	"github.com/procore-directory/procore-directory/service"
	"github.com/procore-directory/procore-directory/service/apierr"
	"github.com/procore-directory/procore-directory/service/audit"
	"github.com/procore-directory/procore-directory/service/operations"
	"github.com/procore-directory/procore-directory/upstream"
	"github.com/procore-directory/procore-directory/upstream/admission"
)

// runChunk runs one claimed chunk to its recorded outcome: items the
// operation already settled are skipped; the users' locks are taken in id
// order (no single update of them runs meanwhile); a chunk an earlier
// holder may have sent is read back, never resent; otherwise it is marked
// sending, then sent by sync (items sync cannot carry, and every item
// after a refusal of sync, by single PATCH). The outcomes are recorded
// in the operation before the claim is done.
func (b *Batcher) runChunk(ctx context.Context, cl Claim) {
	ch := cl.Chunk()
	b.running(ch.Operation, 1)
	defer b.running(ch.Operation, -1)
	st, err := b.snapshot(ctx, ch.Operation)
	switch {
	case errors.Is(err, operations.ErrNotFound) || (err == nil && st == nil):
		b.finishClaim(ctx, cl, ch.Operation, true) // deleted, expired or done
		return
	case err != nil:
		b.log.Error("batch: cannot read the operation", "operation", ch.Operation, "err", err)
		_ = cl.Release(context.WithoutCancel(ctx))
		return
	}
	if cancelled, _ := b.store.CancelRequested(ctx, ch.Operation); cancelled && !cl.MaybeSent() {
		if err := b.finishEarly(ctx, ch.Operation, errCancelled(msgCancelled), errCancelled(msgOpCancelled)); err != nil {
			b.log.Error("batch: cannot cancel the operation", "operation", ch.Operation, "err", err)
		}
		b.finishClaim(ctx, cl, ch.Operation, true)
		return
	}
	items := b.unsettled(ch, st)
	if len(items) == 0 {
		b.finishClaim(ctx, cl, ch.Operation, false)
		return
	}
	callCtx, stats := b.callContext(ctx, ch)
	ids := make([]int64, len(items))
	for k, it := range items {
		ids[k] = it.userID()
	}
	unlock, err := b.core.LockUsers(callCtx, ch.CompanyID, ids)
	if err != nil {
		_ = cl.Release(context.WithoutCancel(ctx))
		return
	}
	var outs []outcome
	fallback := false
	progress := b.newTally()
	if cl.MaybeSent() {
		markSent(callCtx, items, errMaybeSent) // an earlier holder may have sent them: never "refused"
		outs = b.readBackAll(callCtx, progress, items, errMaybeSent)
	} else if err := cl.MarkSending(ctx); err != nil {
		unlock()
		b.log.Error("batch: cannot mark a chunk sending", "operation", ch.Operation, "err", err)
		_ = cl.Release(context.WithoutCancel(ctx))
		return
	} else {
		outs, fallback = b.send(callCtx, progress, ch.CompanyID, items)
	}
	unlock()
	b.audit(callCtx, items, outs) // audit.go: before the operation tells the caller
	if err := b.record(context.WithoutCancel(ctx), ch.Operation, outs, progress, int32(stats.Attempts()), fallback); err != nil {
		b.log.Error("batch: cannot record a chunk's outcome", "operation", ch.Operation, "err", err)
		return // not Done: the claim's lease lapses and the chunk is read back
	}
	b.finishClaim(ctx, cl, ch.Operation, false)
}

// finishClaim ends a claim for good; forgetting the operation too when it
// is over.
func (b *Batcher) finishClaim(ctx context.Context, cl Claim, name string, over bool) {
	if err := cl.Done(context.WithoutCancel(ctx)); err != nil {
		b.log.Error("batch: cannot finish a chunk", "operation", name, "err", err)
	}
	if over {
		b.forget(name)
	}
}

// callContext is the context of a chunk's Procore calls: batch class
// (interactive calls first), the operation's pass-through token if it has
// one, the CallStats that count the requests sent (procore_requests), and
// the submitter its audit events name.
func (b *Batcher) callContext(ctx context.Context, ch Chunk) (context.Context, *upstream.CallStats) {
	ctx = audit.WithBatch(audit.WithCallID(ctx, ch.CallID), ch.Caller, ch.Operation)
	ctx, stats := upstream.WithCallStats(admission.WithBatch(ctx))
	if tok, ok := b.token(ch.Operation); ok {
		ctx = upstream.ContextWithToken(ctx, tok)
	}
	return ctx, stats
}

// userID is the item's user.
func (it planned) userID() int64 {
	if it.plan != nil {
		return it.plan.UserID()
	}
	return it.req.GetId()
}

// unsettled decodes the chunk's items the operation has not settled.
// An item that no longer plans (the configuration changed) is kept with
// its plan nil and fails as the single update would.
func (b *Batcher) unsettled(ch Chunk, st *opState) []planned {
	var out []planned
	for _, it := range ch.Items {
		if st.settled(it.Index) {
			continue
		}
		if p := b.takePlan(ch.Operation, it.Index); p != nil {
			out = append(out, planned{index: it.Index, plan: p})
			continue
		}
		req := &directoryv1.UpdateCompanyUserRequest{}
		if err := proto.Unmarshal(it.Request, req); err != nil {
			out = append(out, planned{index: it.Index, req: req})
			continue
		}
		p, _ := b.core.PlanUpdate(context.Background(), req)
		out = append(out, planned{index: it.Index, req: req, plan: p})
	}
	return out
}

// errMaybeSent stands for the unknown outcome of a chunk an earlier holder
// may have sent.
var errMaybeSent = &upstream.Error{Op: "sync company users", Kind: upstream.KindOutcomeUnknown,
	Message: "an earlier runner may have sent this chunk"}

// send sends items: by sync where it can, else by single PATCH. It
// reports whether sync was refused (the fallback). Each single PATCH and
// read-back is told to progress as it ends.
func (b *Batcher) send(ctx context.Context, progress *tally, companyID int64, items []planned) (outs []outcome, fallback bool) {
	var singles, syncs []planned
	var syncItems []upstream.SyncItem
	useSync := b.syncer != nil && !b.refusals.Has(ctx, service.CredentialKey(ctx))
	fallback = b.syncer != nil && !useSync
	for _, it := range items {
		switch {
		case it.plan == nil:
			outs = append(outs, outcome{index: it.index, err: b.replan(ctx, it)})
			continue
		case !useSync || !it.plan.Writes():
			singles = append(singles, it)
			continue
		}
		si, err := b.syncer.NewSyncItem(it.plan.Request())
		var ns *upstream.NotSyncableError
		switch {
		case errors.As(err, &ns):
			singles = append(singles, it)
		case err != nil:
			outs = append(outs, outcome{index: it.index, err: service.MapUpstreamError(ctx, err)})
		default:
			syncs = append(syncs, it)
			syncItems = append(syncItems, si)
		}
	}
	if len(syncs) > 0 {
		if err := b.core.AuditSending(ctx, plans(syncs)...); err != nil { // nothing sent without its record
			return append(outs, failAll(append(syncs, singles...), err)...), fallback
		}
		res, err := b.syncer.SyncCompanyUsers(ctx, companyID, syncItems)
		switch {
		case errors.Is(err, upstream.ErrSyncForbidden) || errors.Is(err, upstream.ErrSyncAbsent):
			b.refusals.Remember(ctx, service.CredentialKey(ctx))
			fallback = true
			singles = append(singles, syncs...)
		default:
			markSent(ctx, syncs, err)
			outs = append(outs, b.syncOutcomes(ctx, progress, syncs, res, err)...)
		}
	}
	for _, it := range singles {
		user, err := b.core.SendPlanned(ctx, it.plan)
		o := outcome{index: it.index, user: user, err: err}
		progress.one(o)
		outs = append(outs, o)
	}
	return outs, fallback
}

// replan is the error of an item that no longer plans.
func (b *Batcher) replan(ctx context.Context, it planned) error {
	if _, err := b.core.PlanUpdate(ctx, it.req); err != nil {
		return err
	}
	return apierr.New(codes.Internal, apierr.ReasonInternal, opBatch+": unreadable item", nil)
}

// syncOutcomes turns a sync's answer into outcomes: an entity is applied;
// an errors entry is the item's error as the single update maps Procore's;
// an item the answer does not settle, or every item of a sync whose
// outcome is unknown, is read back; a sync that certainly failed as a
// whole gives every item its error.
func (b *Batcher) syncOutcomes(ctx context.Context, progress *tally, items []planned, res upstream.SyncResult, err error) []outcome {
	var uerr *upstream.Error
	if err != nil {
		if errors.As(err, &uerr) && uerr.Kind == upstream.KindOutcomeUnknown {
			b.auditUnknown(ctx, items, err)
			return b.readBackAll(ctx, progress, items, err)
		}
		mapped := service.MapUpstreamError(ctx, err)
		outs := make([]outcome, len(items))
		for k, it := range items {
			outs[k] = outcome{index: it.index, err: mapped}
		}
		return outs
	}
	outs := make([]outcome, 0, len(items))
	var missing []planned
	for k, it := range items {
		r := res.Items[k]
		switch r.Status {
		case upstream.SyncApplied:
			outs = append(outs, outcome{index: it.index, user: b.core.CompanyUser(r.User)})
		case upstream.SyncFailed:
			outs = append(outs, outcome{index: it.index, err: service.SyncItemError(ctx, r)})
		default:
			missing = append(missing, it)
		}
	}
	if len(missing) > 0 {
		unsettled := &upstream.Error{Op: "sync company users", Kind: upstream.KindOutcomeUnknown,
			Message: "Procore's sync answer did not say what became of the user"}
		b.auditUnknown(ctx, missing, unsettled)
		outs = append(outs, b.readBackAll(ctx, progress, missing, unsettled)...)
	}
	return outs
}

// readBackAll settles items whose outcome is unknown by reading each user
// back (paced GETs, batch class) and comparing, as the single path does;
// each item is told to progress as it settles.
func (b *Batcher) readBackAll(ctx context.Context, progress *tally, items []planned, cause error) []outcome {
	outs := make([]outcome, len(items))
	for k, it := range items {
		if it.plan == nil {
			outs[k] = outcome{index: it.index, err: b.replan(ctx, it)}
			continue
		}
		user, err := b.core.ReadBack(ctx, it.plan, cause)
		outs[k] = outcome{index: it.index, user: user, err: err}
		progress.one(outs[k])
	}
	return outs
}

// modify applies fn to the state of a running operation in one atomic
// update of the store and writes the state back unless fn returns
// errStale (nothing to write). A done operation is left as it is: done
// reports it, or whether fn's write ended it.
func (b *Batcher) modify(ctx context.Context, name string, fn func(*opState, *longrunningpb.Operation) error) (done bool, err error) {
	_, err = b.store.Update(ctx, name, func(op *longrunningpb.Operation) error {
		if op.GetDone() {
			done = true
			return errStale
		}
		st, err := readState(op)
		if err != nil {
			return err
		}
		if err := fn(st, op); err != nil {
			return err
		}
		done = op.GetDone()
		return nil
	})
	if errors.Is(err, errStale) {
		err = nil
	}
	return done, err
}

// snapshot reads the operation without a scope (the runner holds its
// name): nil when it is done.
func (b *Batcher) snapshot(ctx context.Context, name string) (*opState, error) {
	var snap *opState
	_, err := b.modify(ctx, name, func(st *opState, _ *longrunningpb.Operation) error {
		snap = st
		return errStale
	})
	return snap, err
}

// record settles outcomes in the operation, in one atomic update, and
// ends it when nothing is pending; it tells the Observer of the items it
// settled that were not told yet.
func (b *Batcher) record(ctx context.Context, name string, outs []outcome, told *tally, spent int32, fallback bool) error {
	var progress settled
	done, err := b.modify(ctx, name, func(st *opState, op *longrunningpb.Operation) error {
		progress = settleCounting(st, func() { st.settle(outs) })
		st.meta.ProcoreRequests += spent
		st.meta.SingleUpdateFallback = st.meta.GetSingleUpdateFallback() || fallback
		now := b.now()
		st.estimate(now, b.chunkSize)
		return st.write(op, now, nil)
	})
	if err == nil {
		b.observe(told.untold(progress))
	}
	if done {
		b.forget(name)
	}
	return err
}

// finishEarly ends an operation that is not done: every item not settled
// gets itemErr, and the operation final (cancelled, or the server
// stopping); what was applied stays in the metadata.
func (b *Batcher) finishEarly(ctx context.Context, name string, itemErr, final error) error {
	var progress settled
	_, err := b.modify(ctx, name, func(st *opState, op *longrunningpb.Operation) error {
		progress = settleCounting(st, func() { st.failUnsettled(itemErr) })
		return st.write(op, b.now(), final)
	})
	if err == nil {
		b.observe(progress)
	}
	b.forget(name)
	if errors.Is(err, operations.ErrNotFound) {
		return nil
	}
	return err
}

// Messages of the items a batch never sent.
const (
	msgCancelled     = "the operation was cancelled before this item was sent; nothing was sent for it"
	msgShuttingDown  = "the server stopped before this item was sent; nothing was sent for it: submit it again"
	msgBatchShutdown = "the server stopped before the batch was done; the metadata tells what was applied"
	msgOpCancelled   = "cancelled; the metadata tells what was applied before the cancel"
)

func errCancelled(msg string) error {
	return apierr.New(codes.Canceled, apierr.ReasonBatchCancelled, opBatch+": "+msg, nil)
}

func errShuttingDown(msg string) error {
	return apierr.New(codes.Unavailable, apierr.ReasonShuttingDown, opBatch+": "+msg, nil)
}
