package upstream

import (
	"context"
	"errors"
	"fmt"
	"net/http"
)

// MaxSyncItems is the most items Procore's sync takes in one request.
const MaxSyncItems = 1000

// syncRouteTemplate is the sync's route, as logs, spans and metrics show
// it.
const syncRouteTemplate = "/rest/v1.3/companies/{company_id}/users/sync"

// syncAnswerBytesPerItem is how much answer a sync may read per item, over
// the client's cap: an entity is a whole user (about 1.5 KiB in Procore's
// published example), so the single call's cap would refuse the answer to
// a full batch.
const syncAnswerBytesPerItem = 16 << 10

// ErrSyncForbidden is wrapped by the *Error of a sync Procore refused with
// 403: the credential may not sync (sync requires Directory Admin rights,
// which a single update of ordinary fields does not). Nothing was applied;
// the caller can send the items as single updates instead.
var ErrSyncForbidden = errors.New("sync is forbidden for this credential")

// ErrSyncAbsent is wrapped by the *Error of a sync Procore answered with
// 404: the endpoint is not there (or the company is not). Nothing was
// applied; the caller can send the items as single updates instead, which
// report a missing company themselves.
var ErrSyncAbsent = errors.New("sync is not available")

// SyncCompanyUsers sends items in one PATCH
// /rest/v1.3/companies/{company_id}/users/sync and matches Procore's answer
// to them by id. It goes through the same credential, rate limit, pacing,
// circuit breaker, tracing and error classification as UpdateCompanyUser,
// and like it is replayed only when Procore certainly did not apply it (429,
// 503, 401 then a token refresh, never sent). When the outcome is unknown
// (a 5xx but 503, a reset or a time-out after sending, an unreadable
// answer) the *Error is KindOutcomeUnknown and the caller must read the
// users back before sending anything again. A 403 or 404 wraps
// ErrSyncForbidden or ErrSyncAbsent.
//
// Items must be 1 to MaxSyncItems, of companyID, each user at most once;
// otherwise nothing is sent (KindInvalidRequest).
func (c *Client) SyncCompanyUsers(ctx context.Context, companyID int64, items []SyncItem) (SyncResult, error) {
	cl, e := buildSync(companyID, items)
	if e != nil {
		return SyncResult{}, e
	}
	cl.maxBody = c.maxResponseBytes + int64(len(items))*syncAnswerBytesPerItem
	a, err := c.do(ctx, &cl)
	if err != nil {
		return SyncResult{}, markSyncRefusal(err)
	}
	return matchSync(items, a.sync), nil
}

// PreviewSync returns the request SyncCompanyUsers would send for items
// (validate_only), or the *Error it would fail with before sending: both
// take the request from one builder.
func PreviewSync(companyID int64, items []SyncItem) (*RequestPreview, error) {
	cl, e := buildSync(companyID, items)
	if e != nil {
		return nil, e
	}
	return previewOf(&cl), nil
}

// buildSync is the one builder of a sync's request: {"updates":[items]}.
func buildSync(companyID int64, items []SyncItem) (call, *Error) {
	invalid := func(format string, args ...any) (call, *Error) {
		return call{}, &Error{Op: opSync, Kind: KindInvalidRequest, Message: fmt.Sprintf(format, args...)}
	}
	switch {
	case companyID <= 0:
		return invalid("company id must be positive")
	case len(items) == 0:
		return invalid("a sync needs at least one item")
	case len(items) > MaxSyncItems:
		return invalid("%d items: a sync takes at most %d", len(items), MaxSyncItems)
	}
	seen := make(map[int64]struct{}, len(items))
	size := len(`{"updates":[]}`)
	for i, it := range items {
		if it.userID <= 0 {
			return invalid("item %d names no user (build items with NewSyncItem): Procore would create a user", i)
		}
		if it.companyID != companyID {
			return invalid("item %d is for company %d, not %d", i, it.companyID, companyID)
		}
		if _, dup := seen[it.userID]; dup {
			return invalid("item %d: user %d is named twice", i, it.userID)
		}
		seen[it.userID] = struct{}{}
		size += len(it.encoded) + 1
	}
	body := make([]byte, 0, size)
	body = append(body, `{"updates":[`...)
	for i, it := range items {
		if i > 0 {
			body = append(body, ',')
		}
		body = append(body, it.encoded...)
	}
	body = append(body, "]}"...)
	return call{op: opSync, method: http.MethodPatch, route: syncRouteTemplate, companyID: companyID,
		action: "sync", body: jsonBody(body), answer: answerSync}, nil
}

// markSyncRefusal wraps ErrSyncForbidden or ErrSyncAbsent into a 403 or
// 404, so the caller can tell "sync refused" from other failures.
func markSyncRefusal(err error) error {
	var e *Error
	if !errors.As(err, &e) || e.Kind != KindStatus {
		return err
	}
	sentinel := syncRefusal(e.StatusCode)
	if sentinel == nil {
		return err
	}
	if e.Err == nil {
		e.Err = sentinel
	} else {
		e.Err = fmt.Errorf("%w: %w", sentinel, e.Err)
	}
	return err
}

// syncRefusal is the error a whole-sync status means, or nil.
func syncRefusal(status int) error {
	switch status {
	case http.StatusForbidden:
		return ErrSyncForbidden
	case http.StatusNotFound:
		return ErrSyncAbsent
	}
	return nil
}

// failedSyncAnswer reads a sync's 400 or 422 whose body is a sync answer
// (entities and errors), as Procore may answer when every item failed:
// the per-item outcomes are then known, and better than one status.
func failedSyncAnswer(cl *call, status int, body []byte, tooBig bool, token string) (answer, bool) {
	if cl.answer != answerSync || tooBig || (status != http.StatusBadRequest && status != http.StatusUnprocessableEntity) {
		return answer{}, false
	}
	s, err := decodeSyncAnswer(body, token)
	if err != nil || len(s.entities)+len(s.failures)+s.unmatched == 0 {
		return answer{}, false
	}
	return answer{sync: s}, true
}
