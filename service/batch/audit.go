package batch

import (
	"context"

	"github.com/procore-directory/procore-directory/service"
)

// audit writes the audit event of each item's outcome (service.Audit),
// before the operation records it: the caller hears of an item through
// the operation only.
func (b *Batcher) audit(ctx context.Context, items []planned, outs []outcome) {
	byIndex := make(map[int32]planned, len(items))
	for _, it := range items {
		byIndex[it.index] = it
	}
	for _, o := range outs {
		it, ok := byIndex[o.index]
		switch {
		case !ok:
			continue
		case it.plan == nil:
			b.core.AuditRequest(ctx, it.req, o.err)
		default:
			b.core.Audit(ctx, it.plan, o.err)
		}
	}
}

// auditUnknown writes the first event of items a sync carried whose
// outcome is unknown; the read-back that follows writes the settled one.
func (b *Batcher) auditUnknown(ctx context.Context, items []planned, cause error) {
	mapped := service.MapUpstreamError(ctx, cause)
	for _, it := range items {
		if it.plan != nil {
			b.core.Audit(ctx, it.plan, mapped)
		}
	}
}

// markSent marks items as carried by a sync (or maybe sent by an earlier
// runner) whose result is err (service.Planned.MarkSent).
func markSent(ctx context.Context, items []planned, err error) {
	for _, it := range items {
		if it.plan != nil {
			it.plan.MarkSent(ctx, err)
		}
	}
}

// failAll gives every item err (nothing was sent).
func failAll(items []planned, err error) []outcome {
	outs := make([]outcome, len(items))
	for k, it := range items {
		outs[k] = outcome{index: it.index, err: err}
	}
	return outs
}

// plans are items' plans (every item a sync carries has one).
func plans(items []planned) []*service.Planned {
	out := make([]*service.Planned, len(items))
	for k, it := range items {
		out[k] = it.plan
	}
	return out
}
