package batch

import (
	"context"
	"errors"

	"cloud.google.com/go/longrunning/autogen/longrunningpb"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/timestamppb"

	directoryv1 "github.com/procore-directory/procore-directory/gen/procore/directory/v1"
	"github.com/procore-directory/procore-directory/service"
	"github.com/procore-directory/procore-directory/service/apierr"
	"github.com/procore-directory/procore-directory/service/operations"
	"github.com/procore-directory/procore-directory/upstream"
)

// batchPreview is the JSON of apierr.ProcoreRequestHeader for a batch.
type batchPreview struct {
	// Sync are the sync requests, one per chunk.
	Sync []*upstream.RequestPreview `json:"sync"`
	// Single are the single PATCHes of the items sync cannot carry (or of
	// every item, when sync is known refused to the credential), each
	// before the fill of required fields the single path may add.
	Single []*upstream.RequestPreview `json:"single"`
	// Note says what the preview cannot know.
	Note string `json:"note,omitempty"`
}

// noteBatchPreview is the note of every batch preview.
const noteBatchPreview = "items are sent in user id order; Procore may refuse sync to this credential (403 or 404), and the items then go as single PATCHes, which may add last_name and email_address unchanged (--required-fields)"

// validateOnly answers a checked validate_only batch (AIP-163): a done
// operation with an empty response and the counts, and the Procore
// requests it would send in apierr.ProcoreRequestHeader. Nothing is sent,
// and the request_id is not recorded (as for a validate_only single
// update).
func (b *Batcher) validateOnly(ctx context.Context, req *directoryv1.BatchUpdateCompanyUsersRequest, items []planned) (*longrunningpb.Operation, error) {
	preview, err := b.preview(ctx, req.GetCompanyId(), items)
	if err != nil {
		return nil, err
	}
	js, err := upstream.ASCIIJSON(preview)
	if err != nil {
		return nil, apierr.New(codes.Internal, apierr.ReasonInternal, opBatch+": cannot encode the request preview", nil)
	}
	if err := grpc.SetHeader(ctx, metadata.Pairs(apierr.ProcoreRequestHeader, string(js))); err != nil {
		return nil, apierr.New(codes.Internal, apierr.ReasonInternal, opBatch+": cannot return the request preview: "+err.Error(), nil)
	}
	now := timestamppb.New(b.now())
	meta, err := anypb.New(&directoryv1.BatchUpdateCompanyUsersMetadata{Total: int32(len(items)), CreateTime: now, UpdateTime: now})
	if err != nil {
		return nil, apierr.New(codes.Internal, apierr.ReasonInternal, opBatch+": "+err.Error(), nil)
	}
	resp, err := anypb.New(&directoryv1.BatchUpdateCompanyUsersResponse{})
	if err != nil {
		return nil, apierr.New(codes.Internal, apierr.ReasonInternal, opBatch+": "+err.Error(), nil)
	}
	op, _, err := b.store.Create(ctx, operations.CreateRequest{Scope: b.core.Scope(ctx), Metadata: meta})
	if err == nil {
		op, err = b.store.Update(ctx, op.GetName(), func(op *longrunningpb.Operation) error {
			op.Done, op.Result = true, &longrunningpb.Operation_Response{Response: resp}
			return nil
		})
	}
	if err != nil {
		return nil, apierr.New(codes.Unavailable, apierr.ReasonInternal, opBatch+": operation store unavailable: "+err.Error(), nil)
	}
	return op, nil
}

// preview builds the requests the batch would send, by the builders the
// sends use (upstream.PreviewSync, upstream.PreviewUpdate).
func (b *Batcher) preview(ctx context.Context, companyID int64, items []planned) (*batchPreview, error) {
	p := &batchPreview{Sync: []*upstream.RequestPreview{}, Single: []*upstream.RequestPreview{}, Note: noteBatchPreview}
	chunks, err := b.chunks("", companyID, items)
	if err != nil {
		return nil, apierr.New(codes.Internal, apierr.ReasonInternal, opBatch+": "+err.Error(), nil)
	}
	byIndex := make(map[int32]planned, len(items))
	for _, it := range items {
		byIndex[it.index] = it
	}
	useSync := b.syncer != nil && !b.refusals.Has(ctx, service.CredentialKey(ctx))
	for _, ch := range chunks {
		var syncItems []upstream.SyncItem
		for _, ci := range ch.Items {
			it := byIndex[ci.Index]
			if useSync && it.plan.Writes() {
				si, err := b.syncer.NewSyncItem(it.plan.Request())
				var ns *upstream.NotSyncableError
				switch {
				case err == nil:
					syncItems = append(syncItems, si)
					continue
				case !errors.As(err, &ns):
					return nil, reindex(service.MapUpstreamError(ctx, err), int(it.index))
				}
			}
			if !it.plan.Writes() {
				continue
			}
			single, err := upstream.PreviewUpdate(it.plan.Request())
			if err != nil {
				return nil, reindex(service.MapUpstreamError(ctx, err), int(it.index))
			}
			p.Single = append(p.Single, single)
		}
		if len(syncItems) > 0 {
			sp, err := upstream.PreviewSync(companyID, syncItems)
			if err != nil {
				return nil, service.MapUpstreamError(ctx, err)
			}
			p.Sync = append(p.Sync, sp)
		}
	}
	return p, nil
}
