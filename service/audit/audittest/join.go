// Package audittest joins an audit trail with Procore's request log, for
// the tests that show the trail says what really happened at Procore: the
// in-process one (service/server) and the process one (cmd/directoryd).
//
// Its one job is that join. It is imported by tests only.
package audittest

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/procore-directory/procore-directory/service/audit"
	"github.com/procore-directory/procore-directory/upstream/procoretest"
)

// Seed is an emulator fixture for a join: the seed's admin client
// (directory-admin-app, secret admin-secret-4f2a) and users 1..n of company
// 8089, so that each write of a run has a user of its own and the user's
// final record says whether Procore applied it.
func Seed(tb testing.TB, n int) []byte {
	tb.Helper()
	users := make([]map[string]any, n)
	for i := range users {
		users[i] = map[string]any{"id": i + 1, "first_name": "First", "last_name": fmt.Sprintf("Last%d", i+1),
			"email_address": fmt.Sprintf("user%d@example.test", i+1), "is_active": true}
	}
	b, err := json.Marshal(map[string]any{
		"oauth_clients": []map[string]any{{"client_id": "directory-admin-app", "client_secret": "admin-secret-4f2a", "directory_admin": true, "company_ids": []int{8089}}},
		"companies":     []map[string]any{{"id": 8089, "name": "Join Co", "users": users}},
	})
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// ReadFile reads an --audit=file:PATH trail (fsync'd before each request
// left and before each caller heard).
func ReadFile(tb testing.TB, path string) []audit.Event {
	tb.Helper()
	f, err := os.Open(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	var out []audit.Event
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var e audit.Event
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			tb.Fatalf("%v: %s", err, sc.Text())
		}
		out = append(out, e)
	}
	if err := sc.Err(); err != nil {
		tb.Fatal(err)
	}
	return out
}

// Carried are the users Procore received a write for (a PATCH, or an
// item of a sync), each with the sorted names of the fields it carried.
func Carried(tb testing.TB, requests []procoretest.Request) map[int64][]string {
	tb.Helper()
	carried := map[int64][]string{}
	for _, r := range requests {
		switch {
		case r.Method == http.MethodPatch && strings.HasSuffix(r.Path, "/users/sync"):
			var body struct {
				Updates []map[string]json.RawMessage `json:"updates"`
			}
			if err := json.Unmarshal(r.Body, &body); err != nil {
				continue // dropped before its body was read: nothing applied, no item known
			}
			for _, item := range body.Updates {
				id, _ := strconv.ParseInt(string(item["id"]), 10, 64)
				delete(item, "id")
				carried[id] = sortedKeys(item)
			}
		case r.Method == http.MethodPatch:
			id, _ := strconv.ParseInt(r.Path[strings.LastIndex(r.Path, "/")+1:], 10, 64)
			var body struct {
				User map[string]json.RawMessage `json:"user"`
			}
			_ = json.Unmarshal(r.Body, &body) // a request dropped before its body was read has none
			if body.User != nil {
				carried[id] = sortedKeys(body.User)
			} else if _, ok := carried[id]; !ok {
				carried[id] = nil // fields unknown: any final event's will do
			}
		}
	}
	return carried
}

// Join checks a required trail against what Procore received (Carried):
// every user written has a write-ahead record of the fields Procore got
// and exactly one final update event (its last) with those fields, every
// event before it is unknown, and the final outcome agrees with the
// user's record (applied(id): Procore's record has what the run sent):
// never applied for a write Procore does not have, nor not_applied for
// one it has, nor refused (nothing sent) for one it got. The final event
// of a user Procore never got a write for must be refused. It returns how
// many users Procore got writes for.
func Join(tb testing.TB, carried map[int64][]string, events []audit.Event, applied func(id int64) bool) int {
	tb.Helper()
	byUser := map[int64][]audit.Event{}
	for _, e := range events {
		byUser[e.UserID] = append(byUser[e.UserID], e)
	}
	for id, fields := range carried {
		evs := byUser[id]
		if len(evs) == 0 {
			tb.Errorf("user %d: written to Procore, no event", id)
			continue
		}
		final := evs[len(evs)-1]
		for _, e := range evs[:len(evs)-1] {
			if e.Outcome != audit.OutcomeUnknown {
				tb.Errorf("user %d: an event before the final one is %s %s, want unknown", id, e.Event, e.Outcome)
			}
		}
		if final.Event != audit.KindUpdate || (fields != nil && !slices.Equal(final.Fields, fields)) {
			tb.Errorf("user %d: final %s event fields %v, Procore got %v", id, final.Event, final.Fields, fields)
		}
		if !slices.ContainsFunc(evs, func(e audit.Event) bool {
			return e.Event == audit.KindSending && (fields == nil || slices.Equal(e.Fields, fields))
		}) {
			tb.Errorf("user %d: no write-ahead record of the fields Procore got (%v) in %+v", id, fields, evs)
		}
		ok := applied(id)
		switch {
		case final.Outcome == audit.OutcomeApplied && !ok:
			tb.Errorf("user %d: the event claims applied, Procore's record says not (%+v)", id, final)
		case final.Outcome == audit.OutcomeNotApplied && ok:
			tb.Errorf("user %d: the event says not applied, Procore's record has it (%+v)", id, final)
		case final.Outcome == audit.OutcomeRefused:
			tb.Errorf("user %d: the event says refused (nothing sent), yet Procore got the write (%+v)", id, final)
		}
		tb.Logf("user %d: %d event(s), final %s %s %s (upstream %d), applied %v", id, len(evs), final.Outcome, final.Code, final.Reason, final.UpstreamStatus, ok)
	}
	for id, evs := range byUser {
		if _, ok := carried[id]; ok {
			continue
		}
		if final := evs[len(evs)-1]; final.Outcome != audit.OutcomeRefused {
			tb.Errorf("user %d: Procore never got a write for it, yet its final event is %+v", id, final)
		}
	}
	return len(carried)
}

func sortedKeys(m map[string]json.RawMessage) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
