package upstream

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// syncEcho answers a sync as Procore documents it: every item an entity,
// echoing the item (so it decodes as a user with the item's id).
func syncEcho(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Updates []json.RawMessage `json:"updates"`
	}
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	writeSyncAnswer(w, http.StatusOK, body.Updates, nil)
}

func writeSyncAnswer(w http.ResponseWriter, status int, entities, errs []json.RawMessage) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string][]json.RawMessage{"entities": orEmpty(entities), "errors": orEmpty(errs)})
}

func orEmpty(v []json.RawMessage) []json.RawMessage {
	if v == nil {
		return []json.RawMessage{}
	}
	return v
}

// syncItems builds items for users of company 8089, each changing last_name.
func syncItems(t *testing.T, c *Client, ids ...int64) []SyncItem {
	t.Helper()
	items := make([]SyncItem, len(ids))
	for i, id := range ids {
		req := UpdateRequest{CompanyID: 8089, UserID: id}
		req.Patch.SetString("last_name", "Diaz")
		it, err := c.NewSyncItem(req)
		if err != nil {
			t.Fatal(err)
		}
		items[i] = it
	}
	return items
}

// randomPatch sets a random subset of fields to random values
// of their kind, or clears them.
func randomPatch(rng *rand.Rand, fields []Field) Patch {
	var p Patch
	for _, f := range fields {
		if rng.IntN(3) != 0 {
			continue
		}
		if rng.IntN(4) == 0 {
			p.Clear(f.Name)
			continue
		}
		switch f.Kind {
		case KindString:
			runes := []rune(`ab"\é😀` + "\n\x00<&>")
			var b strings.Builder
			for range rng.IntN(12) {
				b.WriteRune(runes[rng.IntN(len(runes))])
			}
			p.SetString(f.Name, b.String())
		case KindInt:
			p.SetInt(f.Name, rng.Int64()-rng.Int64())
		case KindBool:
			p.SetBool(f.Name, rng.IntN(2) == 0)
		}
	}
	return p
}

// without returns p less field.
func without(p Patch, field string) Patch {
	var out Patch
	for _, f := range p.Fields() {
		if f != field {
			v, _ := p.Value(f)
			out.Set(f, v)
		}
	}
	return out
}

// TestSyncBodyProperty: over random batches of random patches, the body
// sent is {"updates": [...]} where every item carries its user's id and
// exactly the patch's fields with the single update's encoding of each
// (cleared fields null), never avatar nor add_to_new_projects (a patch
// setting it is refused as not sync-able); the
// preview's bytes are the bytes sent, and every item is matched back.
func TestSyncBodyProperty(t *testing.T) {
	f := newFake(t, func(w http.ResponseWriter, r *http.Request, n int) { syncEcho(w, r) })
	c, _, ctx := newTestClient(t, f.URL)
	var writable []Field
	for _, fd := range Fields() {
		if fd.Writable {
			writable = append(writable, fd)
		}
	}
	rng := rand.New(rand.NewPCG(23, 1))
	const batches = 60
	for b := range batches {
		n := 1 + rng.IntN(40)
		if b == 0 {
			n = MaxSyncItems
		}
		items := make([]SyncItem, n)
		patches := make(map[int64]Patch, n)
		for i := range n {
			id := 1 + rng.Int64N(1<<40)
			for _, taken := patches[id]; taken; _, taken = patches[id] {
				id = 1 + rng.Int64N(1<<40)
			}
			req := UpdateRequest{CompanyID: 8089, UserID: id, Patch: randomPatch(rng, writable)}
			it, err := c.NewSyncItem(req)
			if _, unsyncable := req.Patch.Value("add_to_new_projects"); unsyncable {
				var ns *NotSyncableError
				if !errors.As(err, &ns) || ns.Field != "add_to_new_projects" {
					t.Fatalf("batch %d item %d: %v, want not sync-able", b, i, err)
				}
				req.Patch = without(req.Patch, "add_to_new_projects")
				if it, err = c.NewSyncItem(req); err != nil {
					t.Fatalf("batch %d item %d: %v", b, i, err)
				}
			} else if err != nil {
				t.Fatalf("batch %d item %d: %v", b, i, err)
			}
			items[i], patches[id] = it, req.Patch
		}
		preview, err := PreviewSync(8089, items)
		if err != nil {
			t.Fatal(err)
		}
		res, err := c.SyncCompanyUsers(ctx, 8089, items)
		if err != nil {
			t.Fatalf("batch %d: %v", b, err)
		}
		reqs := f.requests()
		sent := reqs[len(reqs)-1]
		if sent.Method != http.MethodPatch || sent.Path != "/rest/v1.3/companies/8089/users/sync" || sent.Query != "" ||
			sent.Header.Get("Procore-Company-Id") != "8089" || sent.Header.Get("Content-Type") != "application/json" {
			t.Fatalf("batch %d: %s %s?%s company %q type %q", b, sent.Method, sent.Path, sent.Query,
				sent.Header.Get("Procore-Company-Id"), sent.Header.Get("Content-Type"))
		}
		if !bytes.Equal(preview.Body, sent.Body) || preview.Path != sent.Path || preview.Method != sent.Method ||
			preview.CompanyID != "8089" || preview.ContentType != "application/json" {
			t.Fatalf("batch %d: preview %+v differs from the request sent", b, preview)
		}
		var body map[string][]map[string]json.RawMessage
		if err := json.Unmarshal(sent.Body, &body); err != nil || len(body) != 1 || len(body["updates"]) != n {
			t.Fatalf("batch %d: body %.200s (%v)", b, sent.Body, err)
		}
		for i, item := range body["updates"] {
			id, err := strconv.ParseInt(string(item["id"]), 10, 64)
			if err != nil || id != items[i].UserID() {
				t.Fatalf("batch %d item %d: id %s, want %d", b, i, item["id"], items[i].UserID())
			}
			p := patches[id]
			checkSyncItem(t, item, &p)
		}
		if res.Unmatched != 0 || len(res.Items) != n {
			t.Fatalf("batch %d: %d results, %d unmatched", b, len(res.Items), res.Unmatched)
		}
		for i, r := range res.Items {
			if r.UserID != items[i].UserID() || r.Status != SyncApplied || r.User == nil || r.User.ID != r.UserID {
				t.Fatalf("batch %d item %d: %+v", b, i, r)
			}
		}
	}
}

// checkSyncItem: the item's keys are id and exactly the patch's fields, and
// each value is what the single update's body sends for that field.
func checkSyncItem(t *testing.T, item map[string]json.RawMessage, p *Patch) {
	t.Helper()
	var single struct {
		User map[string]json.RawMessage `json:"user"`
	}
	if err := json.Unmarshal(p.AppendJSON(nil), &single); err != nil {
		t.Fatal(err)
	}
	keys := make([]string, 0, len(item))
	for k := range item {
		if k != "id" {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	if !slices.Equal(keys, p.Fields()) {
		t.Fatalf("item keys %v, want id and %v", keys, p.Fields())
	}
	for _, k := range keys {
		if k == "avatar" || k == "add_to_new_projects" {
			t.Fatalf("item carries %s", k)
		}
		if !bytes.Equal(item[k], single.User[k]) {
			t.Fatalf("%s: item sends %s, the single update %s", k, item[k], single.User[k])
		}
		v, _ := p.Value(k)
		if v.IsNull() != (string(item[k]) == "null") {
			t.Fatalf("%s: %s for %v", k, item[k], v)
		}
	}
}

// TestNewSyncItemRefuses: an item without a user id is never built; the
// single update's checks apply; what sync cannot carry is reported as not
// sync-able, for the single PATCH.
func TestNewSyncItemRefuses(t *testing.T) {
	c, _, _ := newTestClient(t, "http://procore.invalid")
	yes := true
	tests := []struct {
		name        string
		req         UpdateRequest
		build       func(p *Patch)
		notSyncable string // the field, or "" for an invalid request
	}{
		{"no user id", UpdateRequest{CompanyID: 1}, func(p *Patch) { p.SetString("city", "x") }, ""},
		{"negative user id", UpdateRequest{CompanyID: 1, UserID: -4}, func(p *Patch) {}, ""},
		{"no company", UpdateRequest{UserID: 2}, func(p *Patch) { p.SetString("city", "x") }, ""},
		{"unknown field", UpdateRequest{CompanyID: 1, UserID: 2}, func(p *Patch) { p.SetString("id", "3") }, ""},
		{"wrong type", UpdateRequest{CompanyID: 1, UserID: 2}, func(p *Patch) { p.SetString("is_active", "yes") }, ""},
		{"avatar", UpdateRequest{CompanyID: 1, UserID: 2, Avatar: &Avatar{Data: []byte("GIF89a")}}, func(p *Patch) {}, "avatar"},
		{"add_to_new_projects", UpdateRequest{CompanyID: 1, UserID: 2}, func(p *Patch) {
			p.SetString("city", "x")
			p.SetBool("add_to_new_projects", true)
		}, "add_to_new_projects"},
		{"add_to_new_projects cleared", UpdateRequest{CompanyID: 1, UserID: 2}, func(p *Patch) { p.Clear("add_to_new_projects") }, "add_to_new_projects"},
		{"run_configurable_validations", UpdateRequest{CompanyID: 1, UserID: 2, RunConfigurableValidations: &yes}, func(p *Patch) {}, "run_configurable_validations"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := tt.req
			tt.build(&req.Patch)
			_, err := c.NewSyncItem(req)
			var ns *NotSyncableError
			if tt.notSyncable != "" {
				if !errors.As(err, &ns) || ns.Field != tt.notSyncable || ns.UserID != req.UserID {
					t.Fatalf("err %v, want not sync-able %s", err, tt.notSyncable)
				}
				return
			}
			if errors.As(err, &ns) {
				t.Fatalf("err %v, want an invalid request", err)
			}
			if e := asError(t, err); e.Kind != KindInvalidRequest || e.Op != "sync company users" {
				t.Fatalf("kind %v op %q", e.Kind, e.Op)
			}
		})
	}
}

// TestSyncInvalidBatchSendsNothing: a batch the builder refuses sends no
// request, and its preview fails the same way.
func TestSyncInvalidBatchSendsNothing(t *testing.T) {
	f := newFake(t, func(w http.ResponseWriter, r *http.Request, n int) { syncEcho(w, r) })
	c, _, ctx := newTestClient(t, f.URL)
	items := syncItems(t, c, 1, 2)
	other := UpdateRequest{CompanyID: 9, UserID: 3}
	otherItem, err := c.NewSyncItem(other)
	if err != nil {
		t.Fatal(err)
	}
	tooMany := make([]SyncItem, MaxSyncItems+1)
	for i := range tooMany {
		tooMany[i] = items[0]
	}
	tests := []struct {
		name    string
		company int64
		items   []SyncItem
	}{
		{"no items", 8089, nil},
		{"zero item (no id)", 8089, []SyncItem{items[0], {}}},
		{"user named twice", 8089, []SyncItem{items[0], items[1], items[0]}},
		{"other company", 8089, []SyncItem{items[0], otherItem}},
		{"no company", 0, items},
		{"too many", 8089, tooMany},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := c.SyncCompanyUsers(ctx, tt.company, tt.items)
			if e := asError(t, err); e.Kind != KindInvalidRequest {
				t.Fatalf("kind %v: %v", e.Kind, e)
			}
			if _, err := PreviewSync(tt.company, tt.items); asError(t, err).Kind != KindInvalidRequest {
				t.Fatalf("preview: %v", err)
			}
		})
	}
	if n := len(f.requests()); n != 0 {
		t.Fatalf("%d requests sent", n)
	}
}

// TestSyncMatchesByID: the answer, in any order, is matched to the items
// by the echoed id: entities are applied, errors failed (field errors,
// "not found" told apart), neither or both missing; entries naming no
// item are counted.
func TestSyncMatchesByID(t *testing.T) {
	f := newFake(t, func(w http.ResponseWriter, r *http.Request, n int) {
		writeSyncAnswer(w, http.StatusOK, []json.RawMessage{
			json.RawMessage(`{"id":5,"last_name":"Diaz"}`),
			json.RawMessage(`{"id":"1","last_name":"Diaz","city":"Salem"}`), // a string id, as some libraries send
			json.RawMessage(`{"id":6}`),                                     // also in errors: conflicting
			json.RawMessage(`{"id":99}`),                                    // not sent
			json.RawMessage(`{"name":"no id"}`),                             // unreadable
		}, []json.RawMessage{
			json.RawMessage(`{"id":2,"last_name":"Diaz","errors":{"email_address":["ana@example.com has already been taken"],"last_name":["is too long"]}}`),
			json.RawMessage(`{"id":3,"last_name":"Diaz","errors":{"id":["Entity with this ID not found"]}}`),
			json.RawMessage(`{"id":6,"errors":{"base":["locked"]}}`),
			json.RawMessage(`{"id":7,"errors":"Validation failed: call 555-123-4567"}`),
		})
	})
	c, _, ctx := newTestClient(t, f.URL)
	res, err := c.SyncCompanyUsers(ctx, 8089, syncItems(t, c, 1, 2, 3, 4, 5, 6, 7))
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		id       int64
		status   SyncItemStatus
		notFound bool
	}{{1, SyncApplied, false}, {2, SyncFailed, false}, {3, SyncFailed, true}, {4, SyncMissing, false},
		{5, SyncApplied, false}, {6, SyncMissing, false}, {7, SyncFailed, false}}
	if len(res.Items) != len(want) || res.Unmatched != 2 {
		t.Fatalf("%d results, %d unmatched: %+v", len(res.Items), res.Unmatched, res)
	}
	for i, w := range want {
		r := res.Items[i]
		if r.UserID != w.id || r.Status != w.status || r.NotFound != w.notFound {
			t.Errorf("item %d: %+v, want %+v", i, r, w)
		}
		if (r.Status == SyncApplied) != (r.User != nil) {
			t.Errorf("item %d: status %v with user %v", i, r.Status, r.User)
		}
	}
	if u := res.Items[0].User; u.City == nil || *u.City != "Salem" {
		t.Errorf("applied user not decoded: %+v", u)
	}
	fes := res.Items[1].FieldErrors
	if len(fes) != 2 || fes[0].Field != "email_address" || fes[0].Messages[0] != "[email] has already been taken" ||
		fes[1].Field != "last_name" || fes[1].Messages[0] != "is too long" {
		t.Errorf("field errors %+v", fes)
	}
	if m := res.Items[6].Message; m != "Validation failed: call [phone]" || res.Items[6].FieldErrors != nil {
		t.Errorf("message %q, fields %+v", m, res.Items[6].FieldErrors)
	}
}

// TestSyncAllFailedAnswer: a 422 (or 400) whose body is a sync answer
// gives each item's outcome; one that is not is the status.
func TestSyncAllFailedAnswer(t *testing.T) {
	for _, status := range []int{http.StatusUnprocessableEntity, http.StatusBadRequest} {
		t.Run(strconv.Itoa(status), func(t *testing.T) {
			f := newFake(t, func(w http.ResponseWriter, r *http.Request, n int) {
				if n == 1 {
					writeSyncAnswer(w, status, nil, []json.RawMessage{json.RawMessage(`{"id":1,"errors":{"last_name":["can't be blank"]}}`)})
					return
				}
				w.WriteHeader(status)
				_, _ = io.WriteString(w, `{"errors":"updates is missing"}`)
			})
			c, _, ctx := newTestClient(t, f.URL)
			res, err := c.SyncCompanyUsers(ctx, 8089, syncItems(t, c, 1, 2))
			if err != nil || res.Items[0].Status != SyncFailed || res.Items[1].Status != SyncMissing {
				t.Fatalf("%+v, %v", res, err)
			}
			_, err = c.SyncCompanyUsers(ctx, 8089, syncItems(t, c, 1, 2))
			if e := asError(t, err); e.Kind != KindStatus || e.StatusCode != status || e.Message != "updates is missing" {
				t.Fatalf("%+v", e)
			}
		})
	}
}

// TestSyncRefusedForCredential: a 403 or 404 to the whole request is an
// error the caller recognises, to fall back to single updates; it is not
// retried.
func TestSyncRefusedForCredential(t *testing.T) {
	tests := []struct {
		status int
		want   error
	}{
		{http.StatusForbidden, ErrSyncForbidden},
		{http.StatusNotFound, ErrSyncAbsent},
	}
	for _, tt := range tests {
		t.Run(strconv.Itoa(tt.status), func(t *testing.T) {
			f := newFake(t, func(w http.ResponseWriter, r *http.Request, n int) {
				w.WriteHeader(tt.status)
				_, _ = io.WriteString(w, `{"errors":"You do not have permission"}`)
			})
			c, _, ctx := newTestClient(t, f.URL)
			_, err := c.SyncCompanyUsers(ctx, 8089, syncItems(t, c, 1))
			if !errors.Is(err, tt.want) {
				t.Fatalf("err %v, want %v", err, tt.want)
			}
			if e := asError(t, err); e.Kind != KindStatus || e.StatusCode != tt.status || e.Attempts != 1 {
				t.Fatalf("%+v", e)
			}
			if n := len(f.requests()); n != 1 {
				t.Fatalf("%d requests", n)
			}
		})
	}
	// Another status is not a refusal of sync.
	f := newFake(t, func(w http.ResponseWriter, r *http.Request, n int) { w.WriteHeader(http.StatusUnauthorized) })
	c, _, ctx := newTestClient(t, f.URL)
	_, err := c.SyncCompanyUsers(ctx, 8089, syncItems(t, c, 1))
	if errors.Is(err, ErrSyncForbidden) || errors.Is(err, ErrSyncAbsent) || asError(t, err).StatusCode != 401 {
		t.Fatalf("401: %v", err)
	}
}

// TestSyncOutcomeUnknownNotRetried: after the request went out, a 5xx but
// 503, a reset, an unreadable 2xx or the caller's deadline leaves the
// outcome unknown, and the sync is never sent again.
func TestSyncOutcomeUnknownNotRetried(t *testing.T) {
	tests := []struct {
		name    string
		fail    func(w http.ResponseWriter, r *http.Request)
		status  int
		timeout bool
	}{
		{"500", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(500) }, 500, false},
		{"502", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(502) }, 502, false},
		{"504", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(504) }, 504, false},
		{"reset after write", func(w http.ResponseWriter, r *http.Request) { hangUp(w) }, 0, false},
		{"malformed 200", func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, `{"entities":[{"id":1`) }, 200, false},
		{"timeout", func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() }, 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake(t, func(w http.ResponseWriter, r *http.Request, n int) { tt.fail(w, r) })
			c, _, ctx := newTestClient(t, f.URL)
			if tt.timeout {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, time.Second) // ample to send; then the handler holds the answer
				defer cancel()
			}
			_, err := c.SyncCompanyUsers(ctx, 8089, syncItems(t, c, 1, 2))
			e := asError(t, err)
			if e.Kind != KindOutcomeUnknown || e.StatusCode != tt.status || e.Attempts != 1 {
				t.Fatalf("kind %v status %d attempts %d (%v)", e.Kind, e.StatusCode, e.Attempts, e)
			}
			if tt.timeout && !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("err %v, want the deadline", err)
			}
			if n := len(f.requests()); n != 1 {
				t.Fatalf("sync sent %d times", n)
			}
		})
	}
}

// TestSyncRetriedWhenNotApplied: a 503 or a 429 says nothing was applied:
// the same bytes are sent again after the wait Procore asked for.
func TestSyncRetriedWhenNotApplied(t *testing.T) {
	tests := []struct {
		name   string
		refuse func(w http.ResponseWriter)
		wait   time.Duration
	}{
		{"503", func(w http.ResponseWriter) {
			w.Header().Set("Retry-After", "3")
			w.WriteHeader(http.StatusServiceUnavailable)
		}, 3 * time.Second},
		{"429", func(w http.ResponseWriter) {
			w.Header().Set("Retry-After", "7")
			w.WriteHeader(http.StatusTooManyRequests)
			_, _ = io.WriteString(w, "You have surpassed the max number of requests for an hour.")
		}, 7 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake(t, func(w http.ResponseWriter, r *http.Request, n int) {
				if n == 1 {
					tt.refuse(w)
					return
				}
				syncEcho(w, r)
			})
			c, ns, ctx := newTestClient(t, f.URL)
			res, err := c.SyncCompanyUsers(ctx, 8089, syncItems(t, c, 1, 2))
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range res.Items {
				if r.Status != SyncApplied {
					t.Fatalf("%+v", r)
				}
			}
			reqs := f.requests()
			if len(reqs) != 2 || !bytes.Equal(reqs[0].Body, reqs[1].Body) {
				t.Fatalf("%d requests", len(reqs))
			}
			if got := ns.recorded(); len(got) != 1 || got[0] < tt.wait {
				t.Fatalf("waits %v, want at least %v", got, tt.wait)
			}
		})
	}
}

// TestSyncRateLimitHonoured: the sync takes its place in the credential's
// rate limit: with none left until a reset, the next sync is sent after
// the reset.
func TestSyncRateLimitHonoured(t *testing.T) {
	reset := time.Unix(time.Now().Unix()+1, 0)
	f := newFake(t, func(w http.ResponseWriter, r *http.Request, n int) {
		if n == 1 {
			setLimit(w, 25, 0, reset)
		}
		syncEcho(w, r)
	})
	c, err := New(f.URL)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(ContextWithToken(context.Background(), testToken), 10*time.Second)
	defer cancel()
	for range 2 {
		if _, err := c.SyncCompanyUsers(ctx, 8089, syncItems(t, c, 1)); err != nil {
			t.Fatal(err)
		}
	}
	reqs := f.requests()
	if len(reqs) != 2 || reqs[1].At.Before(reset) {
		t.Fatalf("second sync at %v, before the reset %v", reqs[1].At, reset)
	}
	if rl := c.RateLimit(TokenID(testToken)); !rl.Known || rl.Limit != 25 {
		t.Fatalf("state %+v", rl)
	}
}

// TestSyncAnswerOverSingleCap: the answer to a batch may exceed the single
// call's response cap.
func TestSyncAnswerOverSingleCap(t *testing.T) {
	f := newFake(t, func(w http.ResponseWriter, r *http.Request, n int) {
		var ents []json.RawMessage
		for id := 1; id <= 3; id++ {
			ents = append(ents, json.RawMessage(fmt.Sprintf(`{"id":%d,"notes":%q}`, id, strings.Repeat("x", 900))))
		}
		writeSyncAnswer(w, http.StatusOK, ents, nil)
	})
	c, _, ctx := newTestClient(t, f.URL, WithMaxResponseBytes(1024))
	res, err := c.SyncCompanyUsers(ctx, 8089, syncItems(t, c, 1, 2, 3))
	if err != nil || res.Items[2].Status != SyncApplied {
		t.Fatalf("%+v %v", res, err)
	}
}

// TestSyncableFields: sync takes every writable field but
// add_to_new_projects (the sync schema's item, id and avatar aside).
func TestSyncableFields(t *testing.T) {
	want := []string{"first_name", "last_name", "job_title", "address", "city", "zip", "business_phone",
		"business_phone_extension", "mobile_phone", "fax_number", "email_address", "email_signature", "is_active",
		"is_employee", "employee_id", "notes", "country_code", "state_code", "initials", "origin_id", "origin_data",
		"vendor_id", "default_permission_template_id", "company_permission_template_id", "work_classification_id"}
	var got []string
	for _, f := range Fields() {
		if f.Syncable {
			got = append(got, f.Name)
		}
	}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Fatalf("syncable %v\nwant %v", got, want)
	}
}

// TestSyncSharesTheCallPath: a sync goes through the single update's call
// path: the credential (a 401 refreshes the token and replays once), the
// observers (under the sync's route), and the circuit breaker (an outcome
// unknown counts as a failure; once open, nothing is sent).
func TestSyncSharesTheCallPath(t *testing.T) {
	f := newFake(t, func(w http.ResponseWriter, r *http.Request, n int) {
		switch n {
		case 1:
			w.WriteHeader(http.StatusUnauthorized)
		case 2:
			syncEcho(w, r)
		default:
			w.WriteHeader(http.StatusBadGateway)
		}
	})
	rec := &recorder{}
	ts := &refreshingSource{}
	c, _, ctx := newTestClient(t, f.URL, WithObserver(rec), WithTokenSource(ts),
		WithCircuitBreaker(BreakerConfig{ConsecutiveFailures: 1, OpenTimeout: time.Hour}))
	if _, err := c.SyncCompanyUsers(ctx, 8089, syncItems(t, c, 1)); err != nil {
		t.Fatal(err)
	}
	if ts.refreshed != 1 || len(rec.attempts) != 2 || len(rec.calls) != 1 {
		t.Fatalf("%d refreshes, %d attempts, %d calls", ts.refreshed, len(rec.attempts), len(rec.calls))
	}
	for _, a := range rec.attempts {
		if a.Route != syncRouteTemplate || a.Method != http.MethodPatch || a.CredentialID != "client-42" {
			t.Fatalf("attempt %+v", a)
		}
	}
	if call := rec.calls[0]; call.Route != syncRouteTemplate || call.Attempts != 2 || call.StatusCode != 200 {
		t.Fatalf("call %+v", call)
	}
	for _, r := range f.requests() {
		if r.Header.Get("Authorization") != "Bearer "+testToken {
			t.Fatal("request without the credential's token")
		}
	}
	_, err := c.SyncCompanyUsers(ctx, 8089, syncItems(t, c, 1))
	if e := asError(t, err); e.Kind != KindOutcomeUnknown {
		t.Fatalf("502: %v", e)
	}
	_, err = c.SyncCompanyUsers(ctx, 8089, syncItems(t, c, 1))
	if e := asError(t, err); e.Kind != KindCircuitOpen {
		t.Fatalf("after the breaker opened: %v", e)
	}
	if n := len(f.requests()); n != 3 {
		t.Fatalf("%d requests, want 3", n)
	}
}
