package upstream_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/oauth2/clientcredentials"

	"github.com/procore-directory/procore-directory/upstream"
	"github.com/procore-directory/procore-directory/upstream/procoretest"
)

// These tests drive the client against the Procore emulator, asserting
// both what the client returns and what the emulator received.

const (
	company = 8089
	userID  = 1001
)

func adminClient(t *testing.T, emu *procoretest.Server) procoretest.OAuthClient {
	t.Helper()
	for _, c := range emu.Clients() {
		if c.DirectoryAdmin {
			return c
		}
	}
	t.Fatal("no Directory Admin client in the seed")
	return procoretest.OAuthClient{}
}

func nonAdminClient(t *testing.T, emu *procoretest.Server) procoretest.OAuthClient {
	t.Helper()
	for _, c := range emu.Clients() {
		if !c.DirectoryAdmin {
			return c
		}
	}
	t.Fatal("no non-admin client in the seed")
	return procoretest.OAuthClient{}
}

type env struct {
	emu    *procoretest.Server
	client *upstream.Client
	ctx    context.Context
}

func newEnv(t *testing.T, emuOpts []procoretest.Option, opts ...upstream.Option) *env {
	t.Helper()
	emu := procoretest.NewServer(t, emuOpts...)
	t.Cleanup(emu.Close)
	admin := adminClient(t, emu)
	ts := upstream.ClientCredentials(clientcredentials.Config{ClientID: admin.ClientID, ClientSecret: admin.ClientSecret, TokenURL: emu.TokenURL})
	c, err := upstream.New(emu.URL, append([]upstream.Option{upstream.WithTokenSource(ts), upstream.WithBackoff(time.Millisecond, 10*time.Millisecond)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return &env{emu: emu, client: c, ctx: ctx}
}

// apiRequests returns the logged API requests (not token requests).
func (e *env) apiRequests() []procoretest.Request {
	var out []procoretest.Request
	for _, r := range e.emu.Requests() {
		if strings.HasPrefix(r.Path, "/rest/") {
			out = append(out, r)
		}
	}
	return out
}

func (e *env) tokenRequests() int {
	n := 0
	for _, r := range e.emu.Requests() {
		if r.Path == "/oauth/token" {
			n++
		}
	}
	return n
}

func basePatch() upstream.UpdateRequest {
	req := upstream.UpdateRequest{CompanyID: company, UserID: userID}
	req.Patch.SetString("last_name", "Okafor")
	req.Patch.SetString("email_address", "maria.okafor@summitridge.example")
	return req
}

func TestEmulatorShow(t *testing.T) {
	e := newEnv(t, nil)
	u, err := e.client.GetCompanyUser(e.ctx, company, userID)
	if err != nil {
		t.Fatal(err)
	}
	if u.ID != userID || u.LastName == nil || *u.LastName != "Okafor" || u.EmailAddress == nil {
		t.Fatalf("user %+v", u)
	}
	reqs := e.apiRequests()
	if len(reqs) != 1 {
		t.Fatalf("%d requests", len(reqs))
	}
	r := reqs[0]
	if r.Method != "GET" || r.Path != "/rest/v1.3/companies/8089/users/1001" || r.Query != "" || r.CompanyID != "8089" || r.Status != 200 || r.ClientID != adminClient(t, e.emu).ClientID {
		t.Fatalf("logged %+v", r)
	}
}

func TestEmulatorJSONPatch(t *testing.T) {
	e := newEnv(t, nil)
	req := basePatch()
	no := false
	req.RunConfigurableValidations = &no
	req.Patch.SetString("job_title", "Site Lead")
	req.Patch.SetString("city", "Salem")
	req.Patch.SetBool("is_active", true)
	req.Patch.SetInt("vendor_id", 301)
	req.Patch.Clear("notes")
	u, err := e.client.UpdateCompanyUser(e.ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	if *u.JobTitle != "Site Lead" || *u.City != "Salem" || u.Notes != nil || *u.VendorID != 301 || u.Vendor == nil || u.Vendor.ID != 301 {
		t.Fatalf("updated user %+v", u)
	}
	reqs := e.apiRequests()
	if len(reqs) != 1 {
		t.Fatalf("%d requests", len(reqs))
	}
	r := reqs[0]
	if r.Method != "PATCH" || r.Query != "run_configurable_validations=false" || r.CompanyID != "8089" || r.ContentType != "application/json" {
		t.Fatalf("logged %+v", r)
	}
	if want := req.Patch.AppendJSON(nil); !bytes.Equal(r.Body, want) || r.RawBody != string(want) {
		t.Fatalf("body %s\nwant %s", r.RawBody, want)
	}
	// Read back: the change is stored.
	got, err := e.client.GetCompanyUser(e.ctx, company, userID)
	if err != nil || *got.JobTitle != "Site Lead" {
		t.Fatalf("read back: %v %v", got, err)
	}
}

func TestEmulatorMultipartAvatar(t *testing.T) {
	e := newEnv(t, nil)
	png := append([]byte("\x89PNG\r\n\x1a\n"), bytes.Repeat([]byte{0}, 300<<10)...)
	req := basePatch()
	req.Patch.SetString("job_title", "Estimator")
	req.Patch.SetInt("business_phone_extension", 42)
	req.Patch.SetBool("is_employee", false)
	req.Patch.Clear("notes")
	req.Avatar = &upstream.Avatar{FileName: "maria.png", ContentType: "image/png", Data: png}
	u, err := e.client.UpdateCompanyUser(e.ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	if u.Avatar == nil || *u.JobTitle != "Estimator" || *u.BusinessPhoneExtension != 42 {
		t.Fatalf("updated user %+v", u)
	}
	r := e.apiRequests()[0]
	if !strings.HasPrefix(r.ContentType, "multipart/form-data; boundary=") || r.Form == nil {
		t.Fatalf("logged %+v", r)
	}
	wantFields := map[string]string{
		"user[last_name]":                "Okafor",
		"user[email_address]":            "maria.okafor@summitridge.example",
		"user[job_title]":                "Estimator",
		"user[business_phone_extension]": "42",
		"user[is_employee]":              "false",
		"user[notes]":                    "",
	}
	if len(r.Form.Fields) != len(wantFields) {
		t.Errorf("fields %v", r.Form.Fields)
	}
	for k, v := range wantFields {
		if got, ok := r.Form.Fields[k]; !ok || got != v {
			t.Errorf("field %s = %q (%v), want %q", k, got, ok, v)
		}
	}
	if len(r.Form.Files) != 1 {
		t.Fatalf("files %+v", r.Form.Files)
	}
	if f := r.Form.Files[0]; f.Field != "user[avatar]" || f.Filename != "maria.png" || f.ContentType != "image/png" || f.Size != int64(len(png)) {
		t.Fatalf("file %+v", f)
	}
}

// TestEmulatorErrors: each error of the contract's table, as the client
// reports it.
func TestEmulatorErrors(t *testing.T) {
	tests := []struct {
		name   string
		setup  func(t *testing.T, e *env) context.Context
		req    func() upstream.UpdateRequest
		status int
		check  func(t *testing.T, err *upstream.Error)
	}{
		{"400 required field", nil, func() upstream.UpdateRequest {
			req := upstream.UpdateRequest{CompanyID: company, UserID: userID}
			req.Patch.SetString("job_title", "x")
			return req
		}, 400, func(t *testing.T, err *upstream.Error) {
			if len(err.FieldErrors) == 0 {
				t.Errorf("no field errors: %+v", err)
			}
		}},
		{"404 user", nil, func() upstream.UpdateRequest {
			req := basePatch()
			req.UserID = 999999
			return req
		}, 404, func(t *testing.T, err *upstream.Error) {
			if err.Message != "Not Found" {
				t.Errorf("message %q", err.Message)
			}
		}},
		{"403 admin-only field", func(t *testing.T, e *env) context.Context {
			tok, err := e.emu.IssueToken(nonAdminClient(t, e.emu).ClientID)
			if err != nil {
				t.Fatal(err)
			}
			return upstream.ContextWithToken(e.ctx, tok)
		}, func() upstream.UpdateRequest {
			req := basePatch()
			req.Patch.SetString("email_address", "someone.else@summitridge.example")
			return req
		}, 403, func(t *testing.T, err *upstream.Error) {
			if !strings.Contains(err.Message, "permission") || strings.Contains(err.Error(), "someone.else") {
				t.Errorf("message %q / %s", err.Message, err)
			}
		}},
		{"422 validation", nil, func() upstream.UpdateRequest {
			req := basePatch()
			req.Patch.SetInt("vendor_id", 999)
			req.Patch.SetString("country_code", "ZZ")
			return req
		}, 422, func(t *testing.T, err *upstream.Error) {
			var names []string
			for _, fe := range err.FieldErrors {
				names = append(names, fe.Field)
			}
			if strings.Join(names, ",") != "country_code,vendor_id" {
				t.Errorf("field errors %+v", err.FieldErrors)
			}
		}},
		{"401 invalid token (pass-through)", func(t *testing.T, e *env) context.Context {
			return upstream.ContextWithToken(e.ctx, "not-a-token")
		}, basePatch, 401, func(t *testing.T, err *upstream.Error) {
			if !strings.Contains(err.Message, "invalid_token") || strings.Contains(err.Error(), "not-a-token") {
				t.Errorf("message %q / %s", err.Message, err)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, nil)
			ctx := e.ctx
			client := e.client
			if tt.setup != nil {
				ctx = tt.setup(t, e)
				var err error
				client, err = upstream.New(e.emu.URL) // pass-through
				if err != nil {
					t.Fatal(err)
				}
			}
			_, err := client.UpdateCompanyUser(ctx, tt.req())
			var uerr *upstream.Error
			if !errors.As(err, &uerr) || uerr.Kind != upstream.KindStatus || uerr.StatusCode != tt.status || uerr.RequestID == "" || uerr.Attempts != 1 {
				t.Fatalf("error %#v", err)
			}
			tt.check(t, uerr)
			if n := len(e.apiRequests()); n != 1 {
				t.Fatalf("%d requests, want 1", n)
			}
		})
	}
}

// TestEmulatorFaults: scripted upstream trouble, and whether the PATCH was
// replayed.
func TestEmulatorFaults(t *testing.T) {
	tests := []struct {
		name     string
		faults   []procoretest.Fault
		method   string
		wantKind upstream.ErrorKind // 0: success
		wantReqs int
	}{
		{"503 then ok: PATCH retried", []procoretest.Fault{procoretest.FaultStatus(503, "text/plain", "Service Unavailable", http.Header{"Retry-After": {"0"}})}, "PATCH", 0, 2},
		{"429 then ok: PATCH retried", []procoretest.Fault{procoretest.FaultStatus(429, "text/plain", "You have surpassed the max number of requests for an hour. Please wait until your limit resets.", http.Header{"Retry-After": {"0"}})}, "PATCH", 0, 2},
		{"502: PATCH not replayed", []procoretest.Fault{procoretest.FaultStatus(502, "text/html", "<html><body><h1>502 Bad Gateway</h1></body></html>", nil)}, "PATCH", upstream.KindOutcomeUnknown, 1},
		{"504: PATCH not replayed", []procoretest.Fault{procoretest.FaultStatus(504, "text/html", "", nil)}, "PATCH", upstream.KindOutcomeUnknown, 1},
		{"500: PATCH not replayed", []procoretest.Fault{procoretest.FaultStatus(500, "", "", nil)}, "PATCH", upstream.KindOutcomeUnknown, 1},
		{"drop after apply: PATCH not replayed", []procoretest.Fault{procoretest.FaultDropAfterApply()}, "PATCH", upstream.KindOutcomeUnknown, 1},
		{"malformed 200: PATCH not replayed", []procoretest.Fault{procoretest.FaultMalformed()}, "PATCH", upstream.KindOutcomeUnknown, 1},
		{"502, 504, malformed: GET retried", []procoretest.Fault{procoretest.FaultStatus(502, "", "", nil), procoretest.FaultStatus(504, "", "", nil), procoretest.FaultMalformed()}, "GET", 0, 4},
		{"drop: GET retried", []procoretest.Fault{procoretest.FaultDropAfterApply(), procoretest.FaultDropBeforeBody()}, "GET", 0, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, nil)
			if _, err := e.client.GetCompanyUser(e.ctx, company, userID); err != nil { // warm the token
				t.Fatal(err)
			}
			e.emu.ResetRequests()
			e.emu.Script(tt.faults...)
			req := basePatch()
			req.Patch.SetString("job_title", "Fault Tester")
			var err error
			if tt.method == "GET" {
				_, err = e.client.GetCompanyUser(e.ctx, company, userID)
			} else {
				_, err = e.client.UpdateCompanyUser(e.ctx, req)
			}
			if tt.wantKind == 0 {
				if err != nil {
					t.Fatal(err)
				}
			} else {
				var uerr *upstream.Error
				if !errors.As(err, &uerr) || uerr.Kind != tt.wantKind {
					t.Fatalf("error %v, want kind %v", err, tt.wantKind)
				}
			}
			reqs := e.apiRequests()
			if len(reqs) != tt.wantReqs {
				t.Fatalf("%d requests, want %d", len(reqs), tt.wantReqs)
			}
			for _, r := range reqs {
				bodyRead := r.RawBody != "" || r.Status != 0 // a drop before the body logs none
				if r.Method != tt.method || (tt.method == "PATCH" && bodyRead && r.RawBody != string(req.Patch.AppendJSON(nil))) {
					t.Errorf("logged %+v", r)
				}
			}
		})
	}
}

// TestEmulatorDropBeforeBody: the emulator closes the connection before
// reading the PATCH body. Whether the client can tell depends on timing: if
// writing the request failed, it was provably not delivered and is replayed
// (2 requests, success); if the small body was already written into the
// socket, this is indistinguishable from a drop after apply, so it must be
// KindOutcomeUnknown with no replay. Both are correct; nothing else is.
func TestEmulatorDropBeforeBody(t *testing.T) {
	for range 5 {
		e := newEnv(t, nil)
		e.emu.Script(procoretest.FaultDropBeforeBody())
		_, err := e.client.UpdateCompanyUser(e.ctx, basePatch())
		n := len(e.apiRequests())
		var uerr *upstream.Error
		switch {
		case err == nil && n == 2:
		case errors.As(err, &uerr) && uerr.Kind == upstream.KindOutcomeUnknown && n == 1:
		default:
			t.Fatalf("error %v after %d requests", err, n)
		}
	}
}

// TestEmulatorDropAfterApplyWasApplied shows why KindOutcomeUnknown exists:
// the update the client could not confirm is in fact stored.
func TestEmulatorDropAfterApplyWasApplied(t *testing.T) {
	e := newEnv(t, nil)
	e.emu.Script(procoretest.FaultDropAfterApply())
	req := basePatch()
	req.Patch.SetString("job_title", "Maybe Applied")
	_, err := e.client.UpdateCompanyUser(e.ctx, req)
	var uerr *upstream.Error
	if !errors.As(err, &uerr) || uerr.Kind != upstream.KindOutcomeUnknown || !strings.Contains(err.Error(), "read the record back") {
		t.Fatalf("error %v", err)
	}
	u, err := e.client.GetCompanyUser(e.ctx, company, userID)
	if err != nil || *u.JobTitle != "Maybe Applied" {
		t.Fatalf("read back %v %v", u, err)
	}
}

// TestEmulatorTokenExpiry: an expired token gets a 401, the client fetches a
// new token once and replays once; with a shared clock, the client renews
// before expiry and Procore never says 401.
func TestEmulatorTokenExpiry(t *testing.T) {
	t.Run("401 then refresh", func(t *testing.T) {
		e := newEnv(t, nil)
		if _, err := e.client.GetCompanyUser(e.ctx, company, userID); err != nil {
			t.Fatal(err)
		}
		e.emu.ExpireTokens()
		if _, err := e.client.UpdateCompanyUser(e.ctx, basePatch()); err != nil {
			t.Fatal(err)
		}
		reqs := e.apiRequests()
		if len(reqs) != 3 || reqs[1].Status != 401 || reqs[2].Status != 200 || reqs[1].RawBody != reqs[2].RawBody {
			t.Fatalf("requests %+v", reqs)
		}
		if n := e.tokenRequests(); n != 2 {
			t.Fatalf("%d token requests, want 2", n)
		}
	})
	t.Run("renewed before expiry", func(t *testing.T) {
		var mu sync.Mutex
		now := time.Now()
		clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
		emu := procoretest.NewServer(t, procoretest.WithClock(clock), procoretest.WithHourlyLimit(0), procoretest.WithSpikeLimit(0))
		t.Cleanup(emu.Close)
		admin := adminClient(t, emu)
		ts := upstream.ClientCredentials(clientcredentials.Config{ClientID: admin.ClientID, ClientSecret: admin.ClientSecret, TokenURL: emu.TokenURL}, upstream.WithTokenClock(clock))
		c, err := upstream.New(emu.URL, upstream.WithTokenSource(ts))
		if err != nil {
			t.Fatal(err)
		}
		ctx := context.Background()
		for range 2 {
			if _, err := c.GetCompanyUser(ctx, company, userID); err != nil {
				t.Fatal(err)
			}
			mu.Lock()
			now = now.Add(5400*time.Second - 30*time.Second) // inside the 60 s margin
			mu.Unlock()
		}
		var tokens, unauthorized int
		for _, r := range emu.Requests() {
			if r.Path == "/oauth/token" {
				tokens++
			}
			if r.Status == 401 {
				unauthorized++
			}
		}
		if tokens != 2 || unauthorized != 0 {
			t.Fatalf("%d token requests, %d 401s", tokens, unauthorized)
		}
	})
}

// TestEmulatorSpikeLimit: with 2 requests per 10 s, the third call within a
// 1 s deadline is refused locally (nothing sent); with a deadline past the
// reset it waits and succeeds.
func TestEmulatorSpikeLimit(t *testing.T) {
	e := newEnv(t, []procoretest.Option{procoretest.WithHourlyLimit(0), procoretest.WithSpikeLimit(2)})
	for range 2 {
		if _, err := e.client.GetCompanyUser(e.ctx, company, userID); err != nil {
			t.Fatal(err)
		}
	}
	short, cancel := context.WithTimeout(e.ctx, time.Second)
	defer cancel()
	_, err := e.client.GetCompanyUser(short, company, userID)
	var uerr *upstream.Error
	if !errors.As(err, &uerr) || uerr.Kind != upstream.KindRateLimited || uerr.RetryAfter <= 0 || uerr.RateLimit.Limit != 2 {
		t.Fatalf("error %v", err)
	}
	if n := len(e.apiRequests()); n != 2 {
		t.Fatalf("%d requests, want 2", n)
	}
	for _, r := range e.emu.Requests() {
		if r.Status == 429 {
			t.Fatalf("a request got 429: %+v", r)
		}
	}
}

// TestEmulatorConcurrentCallers: many concurrent calls share one token
// fetch and each sends exactly its own body.
func TestEmulatorConcurrentCallers(t *testing.T) {
	e := newEnv(t, []procoretest.Option{procoretest.WithHourlyLimit(0), procoretest.WithSpikeLimit(0)})
	const callers = 40
	var wg sync.WaitGroup
	errs := make([]error, callers)
	for i := range callers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if i%2 == 0 {
				_, errs[i] = e.client.GetCompanyUser(e.ctx, company, userID)
				return
			}
			req := basePatch()
			req.Patch.SetString("notes", "note "+strings.Repeat("x", i))
			_, errs[i] = e.client.UpdateCompanyUser(e.ctx, req)
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("caller %d: %v", i, err)
		}
	}
	if n := e.tokenRequests(); n != 1 {
		t.Fatalf("%d token requests, want 1", n)
	}
	bodies := map[string]bool{}
	for _, r := range e.apiRequests() {
		if r.Method == "PATCH" {
			bodies[r.RawBody] = true
		}
	}
	for i := 1; i < callers; i += 2 {
		req := basePatch()
		req.Patch.SetString("notes", "note "+strings.Repeat("x", i))
		if !bodies[string(req.Patch.AppendJSON(nil))] {
			t.Errorf("body of caller %d not received intact", i)
		}
	}
}

func TestEmulatorRequestLogJSON(t *testing.T) {
	// The HTTP view of the log agrees with the Go view (used by e2e tools).
	e := newEnv(t, nil)
	if _, err := e.client.UpdateCompanyUser(e.ctx, basePatch()); err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get(e.emu.URL + "/_emulator/requests")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var logged []procoretest.Request
	if err := json.NewDecoder(resp.Body).Decode(&logged); err != nil {
		t.Fatal(err)
	}
	var patches int
	for _, r := range logged {
		if r.Method == "PATCH" {
			patches++
			req := basePatch()
			if r.RawBody != string(req.Patch.AppendJSON(nil)) {
				t.Errorf("body %s", r.RawBody)
			}
		}
	}
	if patches != 1 {
		t.Fatalf("%d PATCHes logged", patches)
	}
}
