package service

import (
	"context"
	"errors"
	"testing"

	"github.com/procore-directory/procore-directory/service/audit"
	"github.com/procore-directory/procore-directory/upstream"
)

// TestOutcomeSaysWhatLeft: an event's outcome follows what the PATCHes of
// the update did at Procore, not the reason the caller was given: refused
// only when no attempt left (the client's admission, breaker or
// credential); a retry refused after an attempt Procore did not apply is
// not_applied; an unknown outcome (a chunk an earlier runner may have
// sent) is unknown even with no attempt of this runner's.
func TestOutcomeSaysWhatLeft(t *testing.T) {
	refused422 := &upstream.Error{Op: "update company user", Kind: upstream.KindStatus, StatusCode: 422, Attempts: 1, RequestID: "r1"}
	tests := []struct {
		name string
		errs []error // each PATCH's error, in order
		want string
	}{
		{name: "applied", errs: []error{nil}, want: audit.OutcomeApplied},
		{name: "breaker open, nothing sent", errs: []error{&upstream.Error{Kind: upstream.KindCircuitOpen}}, want: audit.OutcomeRefused},
		{name: "local rate limit, nothing sent", errs: []error{&upstream.Error{Kind: upstream.KindRateLimited}}, want: audit.OutcomeRefused},
		{name: "Procore's 429", errs: []error{&upstream.Error{Kind: upstream.KindRateLimited, StatusCode: 429, Attempts: 1}}, want: audit.OutcomeNotApplied},
		{name: "a dropped attempt, then the breaker", errs: []error{&upstream.Error{Kind: upstream.KindCircuitOpen, Attempts: 1}}, want: audit.OutcomeNotApplied},
		{name: "auto mode's second PATCH not sent", errs: []error{refused422, &upstream.Error{Kind: upstream.KindOverloaded}}, want: audit.OutcomeNotApplied},
		{name: "5xx", errs: []error{&upstream.Error{Kind: upstream.KindOutcomeUnknown, StatusCode: 500, Attempts: 1}}, want: audit.OutcomeUnknown},
		{name: "maybe sent by an earlier runner", errs: []error{&upstream.Error{Kind: upstream.KindOutcomeUnknown}}, want: audit.OutcomeUnknown},
		{name: "not the client's error", errs: []error{errors.New("boom")}, want: audit.OutcomeNotApplied},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			u := &update{}
			var last error
			for _, err := range tt.errs {
				u.sentBy(ctx, err)
				last = err
			}
			var mapped error
			if last != nil {
				mapped = fromUpstream(ctx, opUpdate, last)
			}
			if got := outcomeOf(u.sent, mapped); got != tt.want {
				t.Errorf("outcome %s, want %s (sent %v, %v)", got, tt.want, u.sent, mapped)
			}
		})
	}
}
