package service

import (
	"context"
	"strings"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"

	"github.com/procore-directory/procore-directory/service/apierr"
	"github.com/procore-directory/procore-directory/upstream"
)

// procoreRequestPreview is the JSON of apierr.ProcoreRequestHeader.
type procoreRequestPreview struct {
	// Request is what would be sent; null when the update writes nothing.
	Request *upstream.RequestPreview `json:"request"`
	// IfRefused is what would be sent next if Procore refused Request for
	// a required field it leaves out (--required-fields=auto, for a company
	// not yet known to refuse partial bodies): the same body with those
	// fields unchanged from the current record.
	IfRefused *upstream.RequestPreview `json:"if_refused,omitempty"`
	// Note says what the preview cannot know, in words.
	Note string `json:"note,omitempty"`
}

// validateOnly is the send step of a validate_only update: everything
// before it (validation, the mask, authorization, the field rule and its
// fill) has run as for a real update, and here, instead of the PATCH, the
// current record is read (one GET, through the same admission and rate
// budget as any call), the patch is applied to it in memory, and the
// request the PATCH would be is described in apierr.ProcoreRequestHeader.
func (s *Service) validateOnly(ctx context.Context, u *update) (*upstream.User, error) {
	cur, err := s.currentRecord(ctx, u)
	if err != nil {
		return nil, err
	}
	preview := procoreRequestPreview{}
	if !u.writes() {
		return cur, s.setPreview(ctx, preview, []string{noteWritesNothing})
	}
	if preview.Request, err = upstream.PreviewUpdate(u.request()); err != nil {
		return nil, fromUpstream(ctx, opUpdate, err)
	}
	if len(u.plan.onRefusal) > 0 {
		filled := *u
		filled.patch = u.patch.Clone()
		filled.plan = u.plan.ifRefused()
		if err := s.completeRequired(ctx, &filled); err != nil {
			return nil, err
		}
		if preview.IfRefused, err = upstream.PreviewUpdate(filled.request()); err != nil {
			return nil, fromUpstream(ctx, opUpdate, err)
		}
	}
	return u.patch.ApplyTo(cur), s.setPreview(ctx, preview, u.plan.notes())
}

// noteWritesNothing is the preview's note for an update that writes no
// field.
const noteWritesNothing = "the update writes no field: nothing would be sent to Procore, and the answer is the current record"

// setPreview sends the preview as response header metadata. A transport
// that cannot carry it fails the call: a validate_only answer without its
// preview would hide what the caller asked to see.
func (s *Service) setPreview(ctx context.Context, p procoreRequestPreview, notes []string) error {
	p.Note = strings.Join(notes, "; ")
	b, err := upstream.ASCIIJSON(p)
	if err != nil {
		return apierr.New(codes.Internal, apierr.ReasonInternal, opUpdate+": cannot encode the request preview", nil)
	}
	if err := grpc.SetHeader(ctx, metadata.Pairs(apierr.ProcoreRequestHeader, string(b))); err != nil {
		return apierr.New(codes.Internal, apierr.ReasonInternal, opUpdate+": cannot return the request preview: "+err.Error(), nil)
	}
	return nil
}
