package procoretest

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
)

func syncPath(cid int64) string { return "/rest/v1.3/companies/" + itoa(cid) + "/users/sync" }

// syncBody wraps items as {"updates": items}.
func syncBody(items ...map[string]any) []byte {
	b, _ := json.Marshal(map[string]any{"updates": items})
	return b
}

// syncAnswer is a decoded sync 200.
type syncAnswer struct {
	Entities []map[string]any `json:"entities"`
	Errors   []map[string]any `json:"errors"`
}

func decodeSync(t testing.TB, w *httptest.ResponseRecorder) syncAnswer {
	t.Helper()
	var a syncAnswer
	if err := json.Unmarshal(w.Body.Bytes(), &a); err != nil || a.Entities == nil || a.Errors == nil {
		t.Fatalf("sync answer %q: %v (both arrays must be present)", w.Body, err)
	}
	return a
}

func entityIDs(a syncAnswer) []int64 {
	ids := make([]int64, 0, len(a.Entities))
	for _, en := range a.Entities {
		ids = append(ids, int64(en["id"].(float64)))
	}
	return ids
}

func stored(t testing.TB, e *Emulator, cid, uid int64) map[string]any {
	t.Helper()
	raw, ok := e.User(cid, uid)
	if !ok {
		t.Fatalf("user %d/%d not stored", cid, uid)
	}
	return decode(t, raw)
}

// TestSyncItems walks the published Behaviour table and the per-item
// validation: each case is one sync request against a fresh seed.
func TestSyncItems(t *testing.T) {
	const newID = int64(2002) // above every seeded id of every company
	tests := []struct {
		name       string
		items      []map[string]any
		wantIDs    []int64          // entities, in order
		wantErrors []map[string]any // errors entries, exactly (echo + errors)
		check      func(t *testing.T, e *Emulator)
	}{
		{name: "id found: updated", items: []map[string]any{{"id": 1001, "job_title": "Director"}}, wantIDs: []int64{1001},
			check: func(t *testing.T, e *Emulator) {
				if u := stored(t, e, summit, 1001); u["job_title"] != "Director" || u["last_name"] != "Okafor" {
					t.Errorf("stored %v", u)
				}
			}},
		{name: "id not found: error", items: []map[string]any{{"id": 9999, "job_title": "Ghost"}},
			wantErrors: []map[string]any{{"id": 9999.0, "job_title": "Ghost", "errors": map[string]any{"id": []any{"Entity with this ID not found"}}}}},
		{name: "id of another company: not found", items: []map[string]any{{"id": 2001, "city": "X"}},
			wantErrors: []map[string]any{{"id": 2001.0, "city": "X", "errors": map[string]any{"id": []any{"Entity with this ID not found"}}}}},
		{name: "id not an integer", items: []map[string]any{{"id": "abc", "city": "X"}},
			wantErrors: []map[string]any{{"id": "abc", "city": "X", "errors": map[string]any{"id": []any{"is invalid"}}}}},
		{name: "origin_id found: updated", items: []map[string]any{{"origin_id": "hr-7781", "city": "Eugene"}}, wantIDs: []int64{1001},
			check: func(t *testing.T, e *Emulator) {
				if u := stored(t, e, summit, 1001); u["city"] != "Eugene" {
					t.Errorf("stored %v", u)
				}
			}},
		{name: "origin_id not found: created", items: []map[string]any{{"origin_id": "ext-1", "last_name": "Nakamura", "email_address": "k.nakamura@summitridge.example"}},
			wantIDs: []int64{newID},
			check: func(t *testing.T, e *Emulator) {
				u := stored(t, e, summit, newID)
				if u["origin_id"] != "ext-1" || u["is_active"] != true || u["created_at"] == nil || u["name"] != "Nakamura" {
					t.Errorf("created %v", u)
				}
				if _, ok := e.User(harbor, newID); ok {
					t.Error("created in the wrong company")
				}
			}},
		{name: "neither: created", items: []map[string]any{{"last_name": "Ivanova", "email_address": "a.ivanova@summitridge.example"}, {"last_name": "Ortiz", "email_address": "l.ortiz@summitridge.example"}},
			wantIDs: []int64{newID, newID + 1}},
		{name: "neither, without required fields: error", items: []map[string]any{{"job_title": "Temp"}},
			wantErrors: []map[string]any{{"job_title": "Temp", "errors": map[string]any{"last_name": []any{"can't be blank"}, "email_address": []any{"can't be blank"}}}}},
		{name: "only an existing e-mail: a create that clashes", items: []map[string]any{{"email_address": "jun.tanaka@summitridge.example", "last_name": "Tanaka"}},
			wantErrors: []map[string]any{{"email_address": "jun.tanaka@summitridge.example", "last_name": "Tanaka", "errors": map[string]any{"email_address": []any{"has already been taken"}}}}},
		{name: "id and origin_id: found by id, origin_id changed", items: []map[string]any{{"id": 1002, "origin_id": "hr-9000"}}, wantIDs: []int64{1002},
			check: func(t *testing.T, e *Emulator) {
				if u := stored(t, e, summit, 1002); u["origin_id"] != "hr-9000" {
					t.Errorf("stored %v", u)
				}
			}},
		{name: "origin_id unique per company", items: []map[string]any{{"id": 1002, "origin_id": "hr-7781", "city": "Bend"}},
			wantErrors: []map[string]any{{"id": 1002.0, "origin_id": "hr-7781", "city": "Bend", "errors": map[string]any{"origin_id": []any{"has already been taken"}}}},
			check: func(t *testing.T, e *Emulator) {
				if u := stored(t, e, summit, 1002); u["city"] == "Bend" {
					t.Error("a failed item was applied")
				}
			}},
		{name: "avatar and add_to_new_projects refused", items: []map[string]any{{"id": 1001, "add_to_new_projects": true, "avatar": nil, "city": "Bend"}},
			wantErrors: []map[string]any{{"id": 1001.0, "add_to_new_projects": true, "avatar": nil, "city": "Bend",
				"errors": map[string]any{"add_to_new_projects": []any{"is not accepted by sync"}, "avatar": []any{"is not accepted by sync"}}}}},
		{name: "no required fields for an update", items: []map[string]any{{"id": 1003, "is_active": false}}, wantIDs: []int64{1003}},
		{name: "null clears", items: []map[string]any{{"id": 1001, "job_title": nil}}, wantIDs: []int64{1001},
			check: func(t *testing.T, e *Emulator) {
				if u := stored(t, e, summit, 1001); u["job_title"] != nil {
					t.Errorf("job_title %v", u["job_title"])
				}
			}},
		{name: "partial success: applied items stay applied", items: []map[string]any{
			{"id": 1001, "city": "Salem"}, {"id": 1002, "email_address": "not-an-address"}, {"id": 1003, "city": "Bend"}},
			wantIDs:    []int64{1001, 1003},
			wantErrors: []map[string]any{{"id": 1002.0, "email_address": "not-an-address", "errors": map[string]any{"email_address": []any{"is invalid"}}}},
			check: func(t *testing.T, e *Emulator) {
				if stored(t, e, summit, 1001)["city"] != "Salem" || stored(t, e, summit, 1003)["city"] != "Bend" {
					t.Error("applied items not stored")
				}
				if stored(t, e, summit, 1002)["email_address"] != "jun.tanaka@summitridge.example" {
					t.Error("the failed item was applied")
				}
			}},
		{name: "items apply in order: a later item sees an earlier one", items: []map[string]any{
			{"id": 1002, "email_address": "shared@summitridge.example"}, {"id": 1003, "email_address": "shared@summitridge.example"}},
			wantIDs:    []int64{1002},
			wantErrors: []map[string]any{{"id": 1003.0, "email_address": "shared@summitridge.example", "errors": map[string]any{"email_address": []any{"has already been taken"}}}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEmu(t)
			w := do(t, e, call{method: "PATCH", path: syncPath(summit), token: mustToken(t, e, adminClient), body: syncBody(tc.items...)})
			if w.Code != http.StatusOK {
				t.Fatalf("status %d: %s", w.Code, w.Body)
			}
			a := decodeSync(t, w)
			if got := entityIDs(a); !slices.Equal(got, tc.wantIDs) && (len(got) > 0 || len(tc.wantIDs) > 0) {
				t.Errorf("entities %v, want %v", got, tc.wantIDs)
			}
			want := tc.wantErrors
			if want == nil {
				want = []map[string]any{}
			}
			if !reflect.DeepEqual(a.Errors, want) {
				t.Errorf("errors %v\nwant   %v", a.Errors, want)
			}
			if tc.check != nil {
				tc.check(t, e)
			}
		})
	}
}

// TestSyncValidatesAsUpdate: for each bad value the sync item's errors are
// exactly the single update's 422 errors, so the two routes share one
// validation.
func TestSyncValidatesAsUpdate(t *testing.T) {
	tests := []map[string]any{
		{"email_address": "nope"},
		{"email_address": "jun.tanaka@summitridge.example"},
		{"country_code": "XX", "state_code": "CA"},
		{"country_code": "US", "state_code": "ZZ"},
		{"state_code": "CA", "country_code": nil},
		{"vendor_id": 999, "work_classification_id": 1, "default_permission_template_id": 7},
		{"is_active": "yes", "business_phone_extension": 2.5, "job_title": 5},
		{"last_name": " "},
	}
	for _, fields := range tests {
		t.Run(string(patchBody(fields)), func(t *testing.T) {
			e := newEmu(t)
			tok := mustToken(t, e, adminClient)
			single := do(t, e, call{method: "PATCH", path: userPath(summit, 1001), token: tok, body: patchBody(withRequired(fields))})
			if single.Code != http.StatusUnprocessableEntity {
				t.Fatalf("single: %d %s", single.Code, single.Body)
			}
			item := map[string]any{"id": 1001}
			for k, v := range fields {
				item[k] = v
			}
			w := do(t, e, call{method: "PATCH", path: syncPath(summit), token: tok, body: syncBody(item)})
			a := decodeSync(t, w)
			if len(a.Errors) != 1 {
				t.Fatalf("sync: %s", w.Body)
			}
			if got, want := a.Errors[0]["errors"], decode(t, single.Body.Bytes())["errors"]; !reflect.DeepEqual(got, want) {
				t.Errorf("sync item errors %v, single update %v", got, want)
			}
		})
	}
}

// TestSyncNullRefused: WithNullClears(false) applies to sync items too.
func TestSyncNullRefused(t *testing.T) {
	e := newEmu(t, WithNullClears(false))
	w := do(t, e, call{method: "PATCH", path: syncPath(summit), token: mustToken(t, e, adminClient), body: syncBody(map[string]any{"id": 1001, "notes": nil})})
	if a := decodeSync(t, w); len(a.Errors) != 1 || !reflect.DeepEqual(a.Errors[0]["errors"], map[string]any{"notes": []any{"can't be null"}}) {
		t.Fatalf("%s", w.Body)
	}
}

// TestSyncRequestErrors: refusals of the whole request, in the order of
// checks (routing, auth, rate limit, company, access, the admin rule, body).
func TestSyncRequestErrors(t *testing.T) {
	many := make([]map[string]any, 1001)
	for i := range many {
		many[i] = map[string]any{"id": 1001}
	}
	valid := syncBody(map[string]any{"id": 1001, "city": "X"})
	tests := []struct {
		name       string
		opts       []Option
		c          call
		client     string
		wantStatus int
		wantBody   string
		routing    bool
	}{
		{name: "non-admin credential: 403", client: fieldClient, c: call{body: valid}, wantStatus: 403, wantBody: `{"errors":"You do not have permission to sync company users"}`},
		{name: "forbidden: 403 even for an admin", opts: []Option{WithSync(SyncForbidden)}, client: adminClient, c: call{body: valid}, wantStatus: 403, wantBody: `{"errors":"You do not have permission to sync company users"}`},
		{name: "forbidden, flat body", opts: []Option{WithSync(SyncForbidden), WithErrorBody(ErrorBodyFlat)}, client: adminClient, c: call{body: valid}, wantStatus: 403,
			wantBody: `{"code":403,"message":"You do not have permission to sync company users","fields":"","reason":"directory_admin_required","error":"Forbidden"}`},
		{name: "absent: 404 before auth", opts: []Option{WithSync(SyncAbsent)}, c: call{body: valid}, wantStatus: 404, wantBody: `{"errors":"Not Found"}`, routing: true},
		{name: "absent: 404 for an admin too", opts: []Option{WithSync(SyncAbsent)}, client: adminClient, c: call{body: valid}, wantStatus: 404, routing: true},
		{name: "GET sync is no route", client: adminClient, c: call{method: "GET"}, wantStatus: 404, routing: true},
		{name: "401 without token", c: call{body: valid}, wantStatus: 401},
		{name: "app not connected", client: fieldClient, c: call{path: syncPath(harbor), body: valid}, wantStatus: 403, wantBody: "App is not connected to this company"},
		{name: "no such company", client: adminClient, c: call{path: syncPath(999), body: valid}, wantStatus: 404},
		{name: "malformed JSON", client: adminClient, c: call{body: []byte(`{"updates":[`)}, wantStatus: 400},
		{name: "no updates", client: adminClient, c: call{body: []byte(`{"user":{}}`)}, wantStatus: 400, wantBody: `{"errors":{"updates":["is missing"]}}`},
		{name: "empty updates", client: adminClient, c: call{body: []byte(`{"updates":[]}`)}, wantStatus: 400, wantBody: `{"errors":{"updates":["is missing"]}}`},
		{name: "empty body", client: adminClient, c: call{contentType: "application/json"}, wantStatus: 400, wantBody: `{"errors":{"updates":["is missing"]}}`},
		{name: "updates not an array", client: adminClient, c: call{body: []byte(`{"updates":{"id":1001}}`)}, wantStatus: 400, wantBody: `{"errors":{"updates":["must be an array of objects"]}}`},
		{name: "an item not an object", client: adminClient, c: call{body: []byte(`{"updates":[{"id":1001},5]}`)}, wantStatus: 400, wantBody: `{"errors":{"updates":["must be an array of objects"]}}`},
		{name: "a form body", client: adminClient, c: call{contentType: "application/x-www-form-urlencoded", body: []byte("updates[][id]=1001")}, wantStatus: 400, wantBody: `{"errors":{"updates":["is missing"]}}`},
		{name: "1,001 items", client: adminClient, c: call{body: syncBody(many...)}, wantStatus: 400, wantBody: `{"errors":{"updates":["cannot hold more than 1000 items"]}}`},
		{name: "above a lowered limit", opts: []Option{WithSyncMaxItems(2)}, client: adminClient, c: call{body: syncBody(many[:3]...)}, wantStatus: 400, wantBody: `{"errors":{"updates":["cannot hold more than 2 items"]}}`},
		{name: "at the limit", opts: []Option{WithSyncMaxItems(2)}, client: adminClient, c: call{body: syncBody(many[:2]...)}, wantStatus: 200},
		{name: "too many, flat body", opts: []Option{WithErrorBody(ErrorBodyFlat)}, client: adminClient, c: call{body: syncBody(many...)}, wantStatus: 400,
			wantBody: `{"code":400,"message":"updates cannot hold more than 1000 items","fields":"updates","reason":"too_many_items","error":"Bad Request"}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEmu(t, tc.opts...)
			c := tc.c
			if c.method == "" {
				c.method = "PATCH"
			}
			if c.path == "" {
				c.path = syncPath(summit)
			}
			if tc.client != "" {
				c.token = mustToken(t, e, tc.client)
			}
			before, _ := e.User(summit, 1001)
			w := do(t, e, c)
			if w.Code != tc.wantStatus {
				t.Fatalf("status %d, want %d: %s", w.Code, tc.wantStatus, w.Body)
			}
			if tc.wantBody != "" && w.Body.String() != tc.wantBody {
				t.Errorf("body %s\nwant %s", w.Body, tc.wantBody)
			}
			authed := tc.wantStatus != 401 && c.token != "" && !tc.routing
			if got := w.Header().Get("X-Rate-Limit-Limit") != ""; got != authed {
				t.Errorf("rate limit headers present=%v, want %v", got, authed)
			}
			if after, _ := e.User(summit, 1001); tc.wantStatus != 200 && !bytes.Equal(before, after) {
				t.Error("a refused request changed the store")
			}
		})
	}
}

// TestSyncRateLimit: one sync request counts once in both windows,
// whatever its item count.
func TestSyncRateLimit(t *testing.T) {
	items := make([]map[string]any, 200)
	for i := range items {
		items[i] = map[string]any{"id": 1001 + i%4, "notes": strconv.Itoa(i)}
	}
	tests := []struct {
		name string
		opts []Option
		max  int
	}{
		{"spike window", []Option{WithSpikeLimit(3), WithHourlyLimit(0)}, 3},
		{"hourly window", []Option{WithSpikeLimit(0), WithHourlyLimit(2)}, 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			clock := newClock()
			e := newEmu(t, append(tc.opts, WithClock(clock.Now))...)
			tok := mustToken(t, e, adminClient)
			for i := 1; i <= tc.max; i++ {
				w := do(t, e, call{method: "PATCH", path: syncPath(summit), token: tok, body: syncBody(items...)})
				if w.Code != 200 || w.Header().Get("X-Rate-Limit-Remaining") != strconv.Itoa(tc.max-i) {
					t.Fatalf("sync %d: %d remaining %q", i, w.Code, w.Header().Get("X-Rate-Limit-Remaining"))
				}
			}
			if w := do(t, e, call{method: "PATCH", path: syncPath(summit), token: tok, body: syncBody(items...)}); w.Code != 429 {
				t.Fatalf("over the limit: %d", w.Code)
			}
		})
	}
}

func TestSyncAllFailedStatus(t *testing.T) {
	failing := map[string]any{"id": 9999}
	tests := []struct {
		name  string
		opts  []Option
		items []map[string]any
		want  int
	}{
		{"default: 200 when every item fails", nil, []map[string]any{failing, failing}, 200},
		{"422 when every item fails", []Option{WithSyncAllFailedStatus(422)}, []map[string]any{failing, failing}, 422},
		{"422 mode: partial success stays 200", []Option{WithSyncAllFailedStatus(422)}, []map[string]any{failing, {"id": 1001}}, 200},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEmu(t, tc.opts...)
			w := do(t, e, call{method: "PATCH", path: syncPath(summit), token: mustToken(t, e, adminClient), body: syncBody(tc.items...)})
			if w.Code != tc.want {
				t.Fatalf("status %d, want %d", w.Code, tc.want)
			}
			if a := decodeSync(t, w); len(a.Errors)+len(a.Entities) != len(tc.items) {
				t.Errorf("answer %s", w.Body)
			}
		})
	}
}

func TestSyncOrder(t *testing.T) {
	items := []map[string]any{{"id": 1001}, {"id": 9001}, {"id": 1002}, {"id": 9002}, {"id": 1003}, {"id": 9003}, {"id": 1004}}
	tests := []struct {
		order      SyncOrder
		wantIDs    []int64
		wantErrIDs []int64
	}{
		{SyncOrderInput, []int64{1001, 1002, 1003, 1004}, []int64{9001, 9002, 9003}},
		{SyncOrderReversed, []int64{1004, 1003, 1002, 1001}, []int64{9003, 9002, 9001}},
		{SyncOrderShuffled, nil, nil},
	}
	for _, tc := range tests {
		t.Run(string(tc.order), func(t *testing.T) {
			e := newEmu(t, WithSyncOrder(tc.order), WithRandSeed(7))
			w := do(t, e, call{method: "PATCH", path: syncPath(summit), token: mustToken(t, e, adminClient), body: syncBody(items...)})
			a := decodeSync(t, w)
			got := entityIDs(a)
			var errIDs []int64
			for _, en := range a.Errors {
				errIDs = append(errIDs, int64(en["id"].(float64)))
			}
			if tc.wantIDs != nil {
				if !slices.Equal(got, tc.wantIDs) || !slices.Equal(errIDs, tc.wantErrIDs) {
					t.Errorf("entities %v errors %v", got, errIDs)
				}
				return
			}
			if !slices.Equal(slices.Sorted(slices.Values(got)), []int64{1001, 1002, 1003, 1004}) || len(errIDs) != 3 {
				t.Fatalf("not a permutation: %v %v", got, errIDs)
			}
			if slices.IsSorted(got) {
				t.Errorf("seed 7 left the entities in input order: %v", got)
			}
			// Each item still lands in its place: the entity's data is its own.
			for _, en := range a.Entities {
				if id := int64(en["id"].(float64)); stored(t, e, summit, id)["email_address"] != en["email_address"] {
					t.Errorf("entity %d carries another user's data", id)
				}
			}
		})
	}
}

// TestSyncFaults: the scripted faults on a sync request, over a real
// connection, each checked against the store and the request log.
func TestSyncFaults(t *testing.T) {
	items := []map[string]any{{"id": 1001, "notes": "f"}, {"id": 1002, "notes": "f"}, {"id": 9999, "notes": "f"}, {"id": 1004, "notes": "f"}}
	tests := []struct {
		name        string
		fault       Fault
		wantStatus  int // 0: the connection fails
		wantApplied []int64
	}{
		{"5xx after applying the whole chunk", FaultApplyThenStatus(500), 500, []int64{1001, 1002, 1004}},
		{"5xx after applying half", FaultApplyHalfThenStatus(502), 502, []int64{1001, 1002}},
		{"drop after apply", FaultDropAfterApply(), 0, []int64{1001, 1002, 1004}},
		{"drop before body", FaultDropBeforeBody(), 0, nil},
		{"503 before processing", FaultUnavailableThenRetry(), 503, nil},
		{"delay, then served", FaultDelay(0), 200, []int64{1001, 1002, 1004}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := NewServer(t)
			tok := mustToken(t, s.Emulator, adminClient)
			s.Script(tc.fault)
			req, _ := http.NewRequest(http.MethodPatch, s.URL+syncPath(summit), bytes.NewReader(syncBody(items...)))
			req.Header.Set("Authorization", "Bearer "+tok)
			req.Header.Set("Procore-Company-Id", "8089")
			req.Header.Set("Content-Type", "application/json")
			resp, err := liveClient().Do(req)
			status := 0
			if err == nil {
				status = resp.StatusCode
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
			if status != tc.wantStatus {
				t.Fatalf("status %d (%v), want %d", status, err, tc.wantStatus)
			}
			var applied []int64
			for _, id := range []int64{1001, 1002, 1003, 1004} {
				if stored(t, s.Emulator, summit, id)["notes"] == "f" {
					applied = append(applied, id)
				}
			}
			if !slices.Equal(applied, tc.wantApplied) {
				t.Errorf("applied %v, want %v", applied, tc.wantApplied)
			}
			log := s.Requests()
			if len(log) != 1 || log[0].Path != syncPath(summit) || log[0].Status != tc.wantStatus || !slices.Equal(log[0].Applied, tc.wantApplied) {
				t.Errorf("log %+v", log)
			}
		})
	}
}

// TestApplyHalfOnSingleUpdate: half of one item is none.
func TestApplyHalfOnSingleUpdate(t *testing.T) {
	s := NewServer(t)
	tok := mustToken(t, s.Emulator, adminClient)
	s.Script(FaultApplyHalfThenStatus(500))
	if got := livePatch(t, s, tok, map[string]any{"job_title": "Half"}); got.status != 500 {
		t.Fatalf("%d %v", got.status, got.err)
	}
	if jobTitle(t, s.Emulator) == "Half" {
		t.Error("applied")
	}
}

// TestSyncRequestLog: the log entry holds the body sent and, joined with
// it, the users the request wrote, creates included, in item order.
func TestSyncRequestLog(t *testing.T) {
	e := newEmu(t)
	body := syncBody(map[string]any{"id": 1003, "city": "A"}, map[string]any{"id": 9999}, map[string]any{"origin_id": "x-1", "last_name": "Lee", "email_address": "lee@summitridge.example"}, map[string]any{"id": 1001, "city": "B"})
	w := do(t, e, call{method: "PATCH", path: syncPath(summit), token: mustToken(t, e, adminClient), body: body})
	if w.Code != 200 {
		t.Fatalf("%d %s", w.Code, w.Body)
	}
	log := e.Requests()
	if len(log) != 1 {
		t.Fatalf("%+v", log)
	}
	r := log[0]
	if r.Method != "PATCH" || r.Path != syncPath(summit) || r.ClientID != adminClient || r.Status != 200 || !bytes.Equal(r.Body, body) || !slices.Equal(r.Applied, []int64{1003, 2002, 1001}) {
		t.Errorf("entry %+v", r)
	}
	single := do(t, e, call{method: "PATCH", path: userPath(summit, 1001), token: mustToken(t, e, adminClient), body: patchBody(withRequired(nil))})
	if single.Code != 200 || e.Requests()[1].Applied != nil {
		t.Errorf("a single update's entry has Applied: %+v", e.Requests()[1])
	}
}

// TestIndexFilters: the list route's id and origin_id filters and its
// pagination headers, as a sync read-back uses them.
func TestIndexFilters(t *testing.T) {
	e := newEmu(t)
	tok := mustToken(t, e, adminClient)
	tests := []struct {
		query     string
		wantIDs   []int64
		wantTotal string
		wantLink  []string // rels, in order
	}{
		{"", []int64{1001, 1002, 1003, 1004}, "4", nil},
		{"filters[id][]=1003&filters[id][]=1001&filters[id][]=2001", []int64{1001, 1003}, "2", nil},
		{"filters[id]=1002,1004", []int64{1002, 1004}, "2", nil},
		{"filters[id][]=abc", nil, "0", nil},
		{"filters[origin_id]=hr-7781", []int64{1001}, "1", nil},
		{"filters[origin_id]=none", nil, "0", nil},
		{"filters[id][]=1002&filters[origin_id]=hr-7781", nil, "0", nil},
		{"per_page=1", []int64{1001}, "4", []string{"last", "next"}},
		{"per_page=1&page=2", []int64{1002}, "4", []string{"first", "last", "next"}},
		{"per_page=1&page=3", []int64{1003}, "4", []string{"first", "prev", "last", "next"}},
		{"per_page=1&page=4", []int64{1004}, "4", []string{"first", "prev"}},
		{"filters[id][]=1001&filters[id][]=1002&per_page=1&page=2", []int64{1002}, "2", []string{"first"}},
	}
	for _, tc := range tests {
		t.Run(tc.query, func(t *testing.T) {
			q := strings.NewReplacer("[", "%5B", "]", "%5D").Replace(tc.query)
			w := do(t, e, call{method: "GET", path: "/rest/v1.3/companies/8089/users?" + q, token: tok})
			if w.Code != 200 {
				t.Fatalf("%d %s", w.Code, w.Body)
			}
			var list []map[string]any
			if err := json.Unmarshal(w.Body.Bytes(), &list); err != nil {
				t.Fatal(err)
			}
			var ids []int64
			for _, u := range list {
				ids = append(ids, int64(u["id"].(float64)))
			}
			if !slices.Equal(ids, tc.wantIDs) || w.Header().Get("Total") != tc.wantTotal {
				t.Errorf("ids %v Total %q", ids, w.Header().Get("Total"))
			}
			var rels []string
			for part := range strings.SplitSeq(w.Header().Get("Link"), ", ") {
				if _, rel, ok := strings.Cut(part, `rel="`); ok {
					rels = append(rels, strings.TrimSuffix(rel, `"`))
					if !strings.Contains(part, "per_page=1") || !strings.Contains(part, "/rest/v1.3/companies/8089/users?") {
						t.Errorf("link %s", part)
					}
				}
			}
			if !slices.Equal(rels, tc.wantLink) {
				t.Errorf("Link rels %v, want %v (%s)", rels, tc.wantLink, w.Header().Get("Link"))
			}
		})
	}
}

func TestSyncOptionsValidate(t *testing.T) {
	for name, opt := range map[string]Option{
		"sync mode":         WithSync("sometimes"),
		"sync order":        WithSyncOrder("sorted"),
		"all-failed status": WithSyncAllFailedStatus(500),
		"max items":         WithSyncMaxItems(0),
	} {
		if _, err := New(opt); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	for _, opt := range []Option{WithSync(SyncAllowed), WithSync(SyncForbidden), WithSync(SyncAbsent), WithSyncOrder(SyncOrderShuffled), WithSyncAllFailedStatus(422), WithSyncMaxItems(1)} {
		if _, err := New(opt); err != nil {
			t.Error(err)
		}
	}
}

// TestSetSync: the mode switches on a running emulator, request by request.
func TestSetSync(t *testing.T) {
	e := newEmu(t)
	tok := mustToken(t, e, adminClient)
	body := syncBody(map[string]any{"id": 1001})
	for _, step := range []struct {
		mode SyncMode
		want int
	}{{SyncForbidden, 403}, {SyncAbsent, 404}, {SyncAllowed, 200}} {
		if err := e.SetSync(step.mode); err != nil {
			t.Fatal(err)
		}
		if w := do(t, e, call{method: "PATCH", path: syncPath(summit), token: tok, body: body}); w.Code != step.want {
			t.Errorf("%s: %d, want %d", step.mode, w.Code, step.want)
		}
	}
	if err := e.SetSync("never"); err == nil {
		t.Error("a bad mode was accepted")
	}
	if w := do(t, e, call{method: "PATCH", path: syncPath(summit), token: tok, body: body}); w.Code != 200 {
		t.Errorf("a refused SetSync changed the mode: %d", w.Code)
	}
}
