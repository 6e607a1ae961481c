package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/types/known/fieldmaskpb"

	directoryv1 "github.com/procore-directory/procore-directory/gen/procore/directory/v1"
	"github.com/procore-directory/procore-directory/upstream/procoretest"
)

// seedSecrets returns every e-mail address and phone number of the seed,
// and every client secret.
func seedSecrets(t *testing.T) []string {
	t.Helper()
	raw, err := os.ReadFile("../../upstream/procoretest/directory.json")
	if err != nil {
		t.Fatal(err)
	}
	var doc any
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	var out []string
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, x := range v {
				if s, ok := x.(string); ok && s != "" && (k == "email_address" || strings.HasSuffix(k, "_phone") || k == "fax_number" || k == "client_secret") {
					out = append(out, s)
				}
				walk(x)
			}
		case []any:
			for _, x := range v {
				walk(x)
			}
		}
	}
	walk(doc)
	if len(out) < 5 {
		t.Fatalf("found only %d secrets in the seed", len(out))
	}
	return out
}

// TestNoLeaks runs a session of calls through directoryd in both auth
// modes, succeeding and failing in every way Procore fails (422, 403, 404,
// 429, 401), with debug logging, and checks that no e-mail address, phone
// number, access token or client secret shows in anything directoryd wrote
// or answered.
func TestNoLeaks(t *testing.T) {
	const (
		newEmail = "leak.probe.new@summitridge.example"
		newPhone = "+1 503 555 0777"
		badEmail = "leak.probe.bad@@summitridge"
		jun      = "jun.tanaka@summitridge.example" // taken: 422
		bogus    = "bogus-token-0123456789abcdef"
	)
	secrets := append(seedSecrets(t), newEmail, newPhone, badEmail, bogus)
	var answers []string // every error returned to callers (a successful read carries personal data by design)
	record := func(err error) {
		if err != nil {
			answers = append(answers, err.Error())
			if b, e := protojson.Marshal(status.Convert(err).Proto()); e == nil {
				answers = append(answers, string(b))
			}
		}
	}
	ctx := context.Background()
	upd := func(company, id int64, u *directoryv1.CompanyUser, paths ...string) *directoryv1.UpdateCompanyUserRequest {
		return &directoryv1.UpdateCompanyUserRequest{CompanyId: company, Id: id, User: u, UpdateMask: &fieldmaskpb.FieldMask{Paths: paths}}
	}
	rateLimited := procoretest.FaultStatus(http.StatusTooManyRequests, "text/plain", "You have surpassed the max number of requests for an hour. Please wait until your limit resets.", http.Header{"Retry-After": {"1"}})

	// Client-credentials mode, mutual TLS, policy.
	s := newSecureStack(t)
	for _, c := range []struct {
		client directoryv1.DirectoryServiceClient
		req    any
	}{
		{s.grpcClient(t, s.hrSync), &directoryv1.GetCompanyUserRequest{CompanyId: 8089, Id: 1001}},
		{s.grpcClient(t, s.hrSync), upd(8089, 1001, &directoryv1.CompanyUser{EmailAddress: ptr(newEmail), MobilePhone: ptr(newPhone)}, "email_address", "mobile_phone")},
		{s.grpcClient(t, s.hrSync), upd(8089, 1001, &directoryv1.CompanyUser{EmailAddress: ptr(jun)}, "email_address")},      // 422 taken
		{s.grpcClient(t, s.hrSync), upd(8089, 1001, &directoryv1.CompanyUser{EmailAddress: ptr(badEmail)}, "email_address")}, // our validation
		{s.grpcClient(t, s.hrSync), &directoryv1.GetCompanyUserRequest{CompanyId: 8089, Id: 999999}},                         // 404
		{s.grpcClient(t, s.fieldApp), upd(8089, 1002, &directoryv1.CompanyUser{EmailAddress: ptr(newEmail + ".x")}, "email_address")},
		{s.grpcClient(t, s.stranger), &directoryv1.GetCompanyUserRequest{CompanyId: 8089, Id: 1001}},
		{s.grpcClient(t, s.hrSync), "429"},
	} {
		var err error
		switch r := c.req.(type) {
		case *directoryv1.GetCompanyUserRequest:
			_, err = c.client.GetCompanyUser(ctx, r)
		case *directoryv1.UpdateCompanyUserRequest:
			_, err = c.client.UpdateCompanyUser(ctx, r)
		default:
			s.emu.Script(rateLimited, rateLimited, rateLimited, rateLimited) // every attempt of the client
			_, err = c.client.UpdateCompanyUser(ctx, upd(8089, 1002, &directoryv1.CompanyUser{MobilePhone: ptr(newPhone)}, "mobile_phone"))
		}
		record(err)
	}
	for _, r := range []struct{ method, path, body string }{
		{"GET", "/v1/companies/8089/users/1002", ""},
		{"PATCH", "/v1/companies/8089/users/1002", `{"email_address": "` + jun + `"}`},
		{"PATCH", "/rest/v1.3/companies/8089/users/1002", `{"user": {"mobile_phone": "` + newPhone + `", "email_address": "` + badEmail + `"}}`},
	} {
		code, body, err := s.rest(t, s.hrSync, r.method, r.path, r.body)
		if err != nil {
			t.Fatal(err)
		}
		if code >= 400 {
			answers = append(answers, body)
		}
	}

	// Pass-through mode, plaintext, the callers' own tokens.
	emu := newEmulator(t)
	cfg, err := parseConfig([]string{"--grpc-addr", "127.0.0.1:0", "--http-addr", "127.0.0.1:0", "--upstream-url", emu.url, "--log-level", "debug"}, env(), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	p := startRun(t, cfg)
	conn, err := grpc.NewClient(p.grpcAddr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	pc := directoryv1.NewDirectoryServiceClient(conn)
	token := func(c procoretest.OAuthClient) string { return procoretest.Token(t, emu.url+"/oauth/token", c) }
	adminTok, fieldTok := token(emu.client(t, true)), token(emu.client(t, false))
	as := func(tok string) context.Context {
		return metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+tok)
	}
	_, err = pc.GetCompanyUser(as(fieldTok), &directoryv1.GetCompanyUserRequest{CompanyId: 8089, Id: 1001})
	record(err)
	_, err = pc.UpdateCompanyUser(as(fieldTok), upd(8089, 1001, &directoryv1.CompanyUser{EmailAddress: ptr(newEmail)}, "email_address")) // Procore 403
	record(err)
	_, err = pc.UpdateCompanyUser(as(adminTok), upd(8089, 1001, &directoryv1.CompanyUser{EmailAddress: ptr(jun), BusinessPhone: ptr(newPhone)}, "email_address", "business_phone")) // 422
	record(err)
	_, err = pc.GetCompanyUser(as(adminTok), &directoryv1.GetCompanyUserRequest{CompanyId: 5120, Id: 999999}) // 404
	record(err)
	_, err = pc.GetCompanyUser(as(bogus), &directoryv1.GetCompanyUserRequest{CompanyId: 8089, Id: 1001}) // 401
	record(err)
	emu.Script(rateLimited, rateLimited, rateLimited, rateLimited)
	_, err = pc.UpdateCompanyUser(as(adminTok), upd(8089, 1001, &directoryv1.CompanyUser{MobilePhone: ptr(newPhone)}, "mobile_phone")) // 429
	record(err)
	req, _ := http.NewRequest("PATCH", "http://"+p.httpAddr+"/v1/companies/8089/users/1001", strings.NewReader(`{"email_address": "`+jun+`"}`))
	req.Header.Set("Authorization", "Bearer "+adminTok)
	req.Header.Set("Content-Type", "application/json")
	if resp, err := http.DefaultClient.Do(req); err == nil {
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode < 400 {
			t.Errorf("REST update to a taken address: %d %s", resp.StatusCode, b)
		}
		answers = append(answers, string(b))
	}

	secrets = append(secrets, adminTok, fieldTok)
	secrets = append(secrets, s.emu.issuedTokens()...)
	secrets = append(secrets, emu.issuedTokens()...)
	logs := s.d.stderr.String() + p.stderr.String()
	if !strings.Contains(logs, `"level":"DEBUG"`) || !strings.Contains(logs, "procore request") {
		t.Fatalf("debug logs of the upstream client missing; the test would prove nothing:\n%s", logs)
	}
	all := strings.Join(answers, "\n")
	for _, reason := range []string{"UPSTREAM_VALIDATION_FAILED", "UPSTREAM_PERMISSION_DENIED", "UPSTREAM_NOT_FOUND", "UPSTREAM_RATE_LIMITED",
		"UPSTREAM_UNAUTHENTICATED", "ADMIN_FIELD_NOT_ALLOWED", "CALLER_NOT_ALLOWED", "INVALID_REQUEST"} {
		if !strings.Contains(all, reason) {
			t.Errorf("the session never produced %s; the test would not cover it:\n%s", reason, all)
		}
	}
	for _, secret := range secrets {
		if strings.Contains(logs, secret) {
			t.Errorf("logs contain %q", secret)
		}
		for _, a := range answers {
			if strings.Contains(a, secret) {
				t.Errorf("an answer contains %q: %s", secret, a)
			}
		}
	}
	if t.Failed() {
		t.Logf("logs:\n%s", logs)
	}
}
