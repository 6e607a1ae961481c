package service

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/procore-directory/procore-directory/upstream"
)

// TestRefusedForMissing: only Procore's refusal of a body for a field it
// left out, which was certainly not applied, makes auto mode send again.
func TestRefusedForMissing(t *testing.T) {
	rule := newFieldRule()
	both := rule.required // last_name and email_address, both left out
	var lastOnly []upstream.Field
	for _, f := range both {
		if f.Name == "last_name" {
			lastOnly = append(lastOnly, f)
		}
	}
	status := func(code int, fields ...string) error {
		e := &upstream.Error{Kind: upstream.KindStatus, StatusCode: code}
		for _, f := range fields {
			e.FieldErrors = append(e.FieldErrors, upstream.FieldError{Field: f, Messages: []string{"can't be blank"}})
		}
		return fmt.Errorf("wrapped: %w", e)
	}
	for _, tc := range []struct {
		name string
		err  error
		left []upstream.Field
		want bool
	}{
		{name: "400 naming last_name", err: status(400, "last_name"), left: both, want: true},
		{name: "422 naming email_address", err: status(422, "email_address"), left: both, want: true},
		{name: "flat body: comma-separated fields", err: status(400, "email_address,last_name"), left: lastOnly, want: true},
		{name: "names a field the body carried", err: status(422, "email_address"), left: lastOnly},
		{name: "400 naming another field", err: status(400, "job_title"), left: both},
		{name: "400 without fields", err: status(400), left: both},
		{name: "403 naming the field", err: status(403, "email_address"), left: both},
		{name: "outcome unknown", err: &upstream.Error{Kind: upstream.KindOutcomeUnknown, StatusCode: 400, FieldErrors: []upstream.FieldError{{Field: "last_name"}}}, left: both},
		{name: "nothing left out", err: status(400, "last_name")},
		{name: "no error", left: both},
		{name: "another error", err: errors.New("last_name"), left: both},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := refusedForMissing(tc.err, tc.left); got != tc.want {
				t.Errorf("refusedForMissing = %v, want %v", got, tc.want)
			}
		})
	}
}

// TestPartialBodyMemoryBound: the in-process memory remembers companies up
// to its bound and nothing past it.
func TestPartialBodyMemoryBound(t *testing.T) {
	ctx := context.Background()
	m := NewPartialBodyMemory(2)
	for _, id := range []int64{1, 2, 3} {
		if m.RefusesPartial(ctx, id) {
			t.Fatalf("company %d known before it refused", id)
		}
		m.RememberRefusesPartial(ctx, id)
	}
	for id, want := range map[int64]bool{1: true, 2: true, 3: false, 4: false} {
		if got := m.RefusesPartial(ctx, id); got != want {
			t.Errorf("company %d: RefusesPartial = %v, want %v", id, got, want)
		}
	}
}
