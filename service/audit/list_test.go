package audit_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/procore-directory/procore-directory/service/audit"
)

// TestParseFilter: the AIP-160 subset, exactly; anything else is
// ErrFilter, and the error never echoes what the caller wrote.
func TestParseFilter(t *testing.T) {
	for _, ok := range []string{"", `user_id = 7`, `caller = "spiffe://a/b"`, `time >= "2026-01-01T00:00:00Z" AND time < "2026-02-01T00:00:00Z"`,
		`user_id = 7 AND caller = "CN" AND time > "2026-01-01T00:00:00.5Z" AND time <= "2026-01-02T00:00:00+01:00"`,
		`event = "update"`, `event = "sending" AND user_id = 7`} {
		if _, err := audit.ParseFilter(ok); err != nil {
			t.Errorf("%q: %v", ok, err)
		}
	}
	for _, bad := range []string{`email = "a@b.example"`, `user_id > 7`, `user_id = x`, `caller = CN`, `time = "2026-01-01T00:00:00Z"`,
		`time >= "yesterday"`, `event = "deleted"`, `event = update`, `event >= "update"`, `user_id = 7 OR user_id = 8`, `user_id = 7 and caller = "x"`, `(user_id = 7)`} {
		_, err := audit.ParseFilter(bad)
		if !errors.Is(err, audit.ErrFilter) {
			t.Errorf("%q: %v, want ErrFilter", bad, err)
		}
		if err != nil && strings.Contains(err.Error(), "a@b.example") {
			t.Errorf("%q: the error echoes the filter: %v", bad, err)
		}
	}
}

// TestListPagesTheFile: pages of a file trail, filtered by company, user
// and a time range, continue where the last ended; a token is bound to its
// filter.
func TestListPagesTheFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	f, err := audit.OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	base := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	i := 0
	rec := audit.NewRecorder([]audit.Sink{f}, audit.WithClock(func() time.Time { i++; return base.Add(time.Duration(i) * time.Minute) }))
	ctx := context.Background()
	for k := range 10 {
		company := int64(8089)
		if k%5 == 4 {
			company = 5120
		}
		if err := rec.Record(ctx, audit.Event{CompanyID: company, UserID: int64(1 + k%2), Outcome: audit.OutcomeApplied}); err != nil {
			t.Fatal(err)
		}
	}
	r := audit.NewFileReader(path)
	filter := `user_id = 1 AND time >= "2026-03-01T00:02:00Z"`
	var got []time.Time
	token := ""
	for pages := 0; ; pages++ {
		evs, next, err := audit.List(ctx, r, 8089, filter, 2, token)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range evs {
			got = append(got, e.Time)
		}
		if next == "" {
			break
		}
		if pages > 5 {
			t.Fatal("no end of pages")
		}
		token = next
		if _, _, err := audit.List(ctx, r, 8089, "user_id = 2", 2, token); !errors.Is(err, audit.ErrPageToken) {
			t.Fatalf("another filter's token: %v", err)
		}
	}
	// user 1 at minutes 1, 3, 5(company 5120), 7, 9; from minute 2: 3, 7, 9.
	want := []time.Time{base.Add(3 * time.Minute), base.Add(7 * time.Minute), base.Add(9 * time.Minute)}
	if len(got) != len(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	for k := range want {
		if !got[k].Equal(want[k]) {
			t.Fatalf("got %v, want %v", got, want)
		}
	}
}
