package main

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/fieldmaskpb"

	directoryv1 "github.com/procore-directory/procore-directory/gen/procore/directory/v1"
	"github.com/procore-directory/procore-directory/service/apierr"
	"github.com/procore-directory/procore-directory/service/auth"
	"github.com/procore-directory/procore-directory/upstream/procoretest"
)

const (
	hrSyncID   = "spiffe://corp.example/ns/hr/sa/hr-sync" // URI SAN, directory admin, both companies
	fieldAppCN = "field-app"                              // CN only, company 8089, no admin rights
)

const securePolicy = `# test policy
callers:
  - identity: ` + hrSyncID + `
    companies: [8089, 5120]
    directory_admin: true
  - identity: ` + fieldAppCN + `
    companies: [8089]
`

// emulator is the Procore emulator behind an httptest server that keeps
// every access token it issues, so the leak test can look for them.
type emulator struct {
	*procoretest.Emulator
	url string

	mu     sync.Mutex
	tokens []string
}

func newEmulator(t *testing.T) *emulator {
	t.Helper()
	e, err := procoretest.New(procoretest.WithHourlyLimit(0), procoretest.WithSpikeLimit(0))
	if err != nil {
		t.Fatal(err)
	}
	emu := &emulator{Emulator: e}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/oauth/token" {
			e.ServeHTTP(w, r)
			return
		}
		rec := httptest.NewRecorder()
		e.ServeHTTP(rec, r)
		var tok struct {
			AccessToken string `json:"access_token"`
		}
		if json.Unmarshal(rec.Body.Bytes(), &tok) == nil && tok.AccessToken != "" {
			emu.mu.Lock()
			emu.tokens = append(emu.tokens, tok.AccessToken)
			emu.mu.Unlock()
		}
		for k, v := range rec.Header() {
			w.Header()[k] = v
		}
		w.WriteHeader(rec.Code)
		_, _ = w.Write(rec.Body.Bytes())
	}))
	t.Cleanup(srv.Close)
	emu.url = srv.URL
	return emu
}

func (e *emulator) client(t *testing.T, admin bool) procoretest.OAuthClient {
	t.Helper()
	for _, c := range e.Clients() {
		if c.DirectoryAdmin == admin {
			return c
		}
	}
	t.Fatalf("no client with admin=%v", admin)
	return procoretest.OAuthClient{}
}

func (e *emulator) issuedTokens() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]string(nil), e.tokens...)
}

// patches counts the PATCH requests Procore received.
func (e *emulator) patches() int {
	n := 0
	for _, r := range e.Requests() {
		if r.Method == http.MethodPatch {
			n++
		}
	}
	return n
}

// secureStack is directoryd in client-credentials mode with mutual TLS and
// the policy above, in front of the emulator.
type secureStack struct {
	emu *emulator
	ca  *testCA
	d   *running
	// Client TLS configurations.
	hrSync, fieldApp, stranger, noCert, otherCA *tls.Config
	// Certificates of the client CA whose identity is refused.
	cnSpoof, cnPadded *tls.Config
}

func newSecureStack(t *testing.T) *secureStack {
	t.Helper()
	emu := newEmulator(t)
	ca := newTestCA(t, "directoryd test CA")
	dir := t.TempDir()
	srvCert, srvKey := ca.issue(t, "directoryd", "", true)
	admin := emu.client(t, true)
	cfg, err := parseConfig([]string{
		"--grpc-addr", "127.0.0.1:0", "--http-addr", "127.0.0.1:0",
		"--upstream-url", emu.url, "--token-url", emu.url + "/oauth/token", "--auth", "client-credentials",
		"--tls-cert", writeFile(t, dir, "server.pem", srvCert), "--tls-key", writeFile(t, dir, "server-key.pem", srvKey),
		"--client-ca", writeFile(t, dir, "ca.pem", ca.pem), "--policy", writeFile(t, dir, "policy.yaml", []byte(securePolicy)),
		"--log-level", "debug",
	}, env("PROCORE_CLIENT_ID", admin.ClientID, "PROCORE_CLIENT_SECRET", admin.ClientSecret), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	s := &secureStack{emu: emu, ca: ca, d: startRun(t, cfg)}
	client := func(issuer *testCA, cn, uri string) *tls.Config {
		c, k := issuer.issue(t, cn, uri, false)
		return ca.clientTLS(t, c, k)
	}
	s.hrSync = client(ca, "hr-sync (CN ignored)", hrSyncID)
	s.fieldApp = client(ca, fieldAppCN, "")
	s.stranger = client(ca, "stranger", "")
	s.noCert = ca.clientTLS(t, nil, nil)
	s.otherCA = client(newTestCA(t, "some other CA"), fieldAppCN, "")
	s.cnSpoof = client(ca, hrSyncID, "")        // the admin's SPIFFE ID as a CN, no URI SAN
	s.cnPadded = client(ca, fieldAppCN+" ", "") // a listed CN with a trailing space
	return s
}

func (s *secureStack) grpcClient(t *testing.T, cfg *tls.Config) directoryv1.DirectoryServiceClient {
	t.Helper()
	conn, err := grpc.NewClient(s.d.grpcAddr, grpc.WithTransportCredentials(credentials.NewTLS(cfg)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return directoryv1.NewDirectoryServiceClient(conn)
}

// rest sends one REST request; err is the transport error (a refused
// handshake), else the status and body.
func (s *secureStack) rest(t *testing.T, cfg *tls.Config, method, path, body string, header ...string) (int, string, error) {
	t.Helper()
	c := &http.Client{Transport: &http.Transport{TLSClientConfig: cfg, ForceAttemptHTTP2: true}}
	defer c.CloseIdleConnections()
	req, err := http.NewRequest(method, "https://"+s.d.httpAddr+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := c.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	// The Procore-compatible route names the ErrorInfo reason in a
	// header (its body is Procore's): read it with the body.
	if reason := resp.Header.Get("X-Directoryd-Reason"); reason != "" {
		return resp.StatusCode, reason + " " + string(b), nil
	}
	return resp.StatusCode, string(b), nil
}

func reasonOf(err error) (reason, field string) {
	for _, d := range status.Convert(err).Details() {
		if info, ok := d.(*errdetails.ErrorInfo); ok {
			return info.GetReason(), info.GetMetadata()["field"]
		}
	}
	return "", ""
}

func TestMutualTLSAndPolicy(t *testing.T) {
	s := newSecureStack(t)
	ctx := context.Background()
	update := func(company int64, user *directoryv1.CompanyUser, paths ...string) *directoryv1.UpdateCompanyUserRequest {
		return &directoryv1.UpdateCompanyUserRequest{CompanyId: company, Id: userIn(company), User: user, UpdateMask: &fieldmaskpb.FieldMask{Paths: paths}}
	}
	forged := metadata.Pairs(auth.CallerIdentityHeader, hrSyncID)
	grpcTests := []struct {
		name       string
		tls        *tls.Config
		md         metadata.MD
		get        *directoryv1.GetCompanyUserRequest
		update     *directoryv1.UpdateCompanyUserRequest
		wantCode   codes.Code
		wantReason string
		wantField  string
		wantPatch  bool
	}{
		{name: "no client certificate", tls: s.noCert, get: &directoryv1.GetCompanyUserRequest{CompanyId: 8089, Id: 1001}, wantCode: codes.Unavailable},
		{name: "certificate of another CA", tls: s.otherCA, get: &directoryv1.GetCompanyUserRequest{CompanyId: 8089, Id: 1001}, wantCode: codes.Unavailable},
		{name: "unknown identity", tls: s.stranger, get: &directoryv1.GetCompanyUserRequest{CompanyId: 8089, Id: 1001}, wantCode: codes.PermissionDenied, wantReason: apierr.ReasonCallerNotAllowed},
		{name: "CN identity reads its company", tls: s.fieldApp, get: &directoryv1.GetCompanyUserRequest{CompanyId: 8089, Id: 1001}},
		{name: "CN identity kept to its companies (get)", tls: s.fieldApp, get: &directoryv1.GetCompanyUserRequest{CompanyId: 5120, Id: 2001}, wantCode: codes.PermissionDenied, wantReason: apierr.ReasonCompanyNotAllowed},
		{name: "CN identity kept to its companies (update)", tls: s.fieldApp, update: update(5120, &directoryv1.CompanyUser{JobTitle: ptr("x")}, "job_title"), wantCode: codes.PermissionDenied, wantReason: apierr.ReasonCompanyNotAllowed},
		{name: "no admin rights: other field", tls: s.fieldApp, update: update(8089, &directoryv1.CompanyUser{JobTitle: ptr("Site Lead")}, "job_title"), wantPatch: true},
		{name: "no admin rights: add_to_new_projects", tls: s.fieldApp, update: update(8089, &directoryv1.CompanyUser{AddToNewProjects: ptr(true)}, "add_to_new_projects"),
			wantCode: codes.PermissionDenied, wantReason: apierr.ReasonAdminFieldNotAllowed, wantField: "user.add_to_new_projects"},
		{name: "no admin rights: email change", tls: s.fieldApp, update: update(8089, &directoryv1.CompanyUser{EmailAddress: ptr("other.address@summitridge.example")}, "email_address"),
			wantCode: codes.PermissionDenied, wantReason: apierr.ReasonAdminFieldNotAllowed, wantField: "user.email_address"},
		{name: "no admin rights: email unchanged", tls: s.fieldApp, update: update(8089, &directoryv1.CompanyUser{EmailAddress: ptr("maria.okafor@summitridge.example"), City: ptr("Salem")}, "email_address", "city"), wantPatch: true},
		{name: "forged identity metadata from a TCP caller is ignored", tls: s.fieldApp, md: forged, update: update(8089, &directoryv1.CompanyUser{DefaultPermissionTemplateId: ptr(int64(42))}, "default_permission_template_id"),
			wantCode: codes.PermissionDenied, wantReason: apierr.ReasonAdminFieldNotAllowed, wantField: "user.default_permission_template_id"},
		{name: "forged identity cannot reach another company", tls: s.fieldApp, md: forged, get: &directoryv1.GetCompanyUserRequest{CompanyId: 5120, Id: 2001}, wantCode: codes.PermissionDenied, wantReason: apierr.ReasonCompanyNotAllowed},
		{name: "CN spelling the admin's SPIFFE ID is refused", tls: s.cnSpoof, update: update(5120, &directoryv1.CompanyUser{EmailAddress: ptr("spoofed@summitridge.example")}, "email_address"),
			wantCode: codes.Unauthenticated, wantReason: apierr.ReasonCallerUnauthenticated},
		{name: "CN with a trailing space is refused, not trimmed", tls: s.cnPadded, get: &directoryv1.GetCompanyUserRequest{CompanyId: 8089, Id: 1001}, wantCode: codes.Unauthenticated, wantReason: apierr.ReasonCallerUnauthenticated},
		{name: "URI SAN identity with admin rights", tls: s.hrSync, update: update(5120, &directoryv1.CompanyUser{AddToNewProjects: ptr(true)}, "add_to_new_projects"), wantPatch: true},
	}
	for _, tt := range grpcTests {
		t.Run("grpc/"+tt.name, func(t *testing.T) {
			c := s.grpcClient(t, tt.tls)
			cctx := ctx
			if tt.md != nil {
				cctx = metadata.NewOutgoingContext(ctx, tt.md)
			}
			before := s.emu.patches()
			var err error
			if tt.get != nil {
				_, err = c.GetCompanyUser(cctx, tt.get)
			} else {
				_, err = c.UpdateCompanyUser(cctx, tt.update)
			}
			if tt.wantCode == codes.OK && tt.update != nil && status.Code(err) == codes.InvalidArgument {
				// An upstream validation error still proves the call got through.
				err = nil
			}
			if status.Code(err) != tt.wantCode {
				t.Fatalf("code %v (%v), want %v", status.Code(err), err, tt.wantCode)
			}
			if reason, field := reasonOf(err); tt.wantReason != "" && (reason != tt.wantReason || field != tt.wantField) {
				t.Errorf("reason %q field %q, want %q %q", reason, field, tt.wantReason, tt.wantField)
			}
			if sent := s.emu.patches() > before; sent != tt.wantPatch {
				t.Errorf("PATCH sent upstream: %v, want %v", sent, tt.wantPatch)
			}
		})
	}

	forgedHeader := []string{"Grpc-Metadata-" + auth.CallerIdentityHeader, hrSyncID, auth.CallerIdentityHeader, hrSyncID}
	restTests := []struct {
		name        string
		tls         *tls.Config
		method      string
		path, body  string
		header      []string
		wantRefused bool
		wantStatus  int
		wantIn      string
		wantPatch   bool
	}{
		{name: "no client certificate", tls: s.noCert, method: "GET", path: "/v1/companies/8089/users/1001", wantRefused: true},
		{name: "certificate of another CA", tls: s.otherCA, method: "GET", path: "/v1/companies/8089/users/1001", wantRefused: true},
		{name: "unknown identity", tls: s.stranger, method: "GET", path: "/v1/companies/8089/users/1001", wantStatus: 403, wantIn: apierr.ReasonCallerNotAllowed},
		{name: "CN identity reads its company", tls: s.fieldApp, method: "GET", path: "/v1/companies/8089/users/1001", wantStatus: 200},
		{name: "CN identity kept to its companies", tls: s.fieldApp, method: "GET", path: "/v1/companies/5120/users/2001", wantStatus: 403, wantIn: apierr.ReasonCompanyNotAllowed},
		{name: "no admin rights: other field", tls: s.fieldApp, method: "PATCH", path: "/v1/companies/8089/users/1001", body: `{"job_title": "Foreman"}`, wantStatus: 200, wantPatch: true},
		{name: "no admin rights: company template (Procore route)", tls: s.fieldApp, method: "PATCH", path: "/rest/v1.3/companies/8089/users/1001", body: `{"user": {"company_permission_template_id": 43}}`,
			wantStatus: 403, wantIn: "user.company_permission_template_id"},
		{name: "forged identity headers are ignored", tls: s.fieldApp, method: "PATCH", path: "/v1/companies/8089/users/1001", body: `{"add_to_new_projects": true}`, header: forgedHeader,
			wantStatus: 403, wantIn: "user.add_to_new_projects"},
		{name: "CN spelling the admin's SPIFFE ID is refused", tls: s.cnSpoof, method: "PATCH", path: "/rest/v1.3/companies/5120/users/2001", body: `{"user": {"email_address": "spoofed@summitridge.example"}}`,
			wantStatus: 401, wantIn: apierr.ReasonCallerUnauthenticated},
		{name: "CN with a trailing space is refused", tls: s.cnPadded, method: "GET", path: "/v1/companies/8089/users/1001", wantStatus: 401, wantIn: apierr.ReasonCallerUnauthenticated},
		{name: "URI SAN identity with admin rights", tls: s.hrSync, method: "PATCH", path: "/v1/companies/8089/users/1001", body: `{"add_to_new_projects": true}`, wantStatus: 200, wantPatch: true},
		{name: "health needs a certificate too", tls: s.noCert, method: "GET", path: "/healthz", wantRefused: true},
	}
	for _, tt := range restTests {
		t.Run("rest/"+tt.name, func(t *testing.T) {
			before := s.emu.patches()
			code, body, err := s.rest(t, tt.tls, tt.method, tt.path, tt.body, tt.header...)
			if tt.wantRefused {
				if err == nil {
					t.Fatalf("served without a valid client certificate: %d %s", code, body)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if code != tt.wantStatus || !strings.Contains(body, tt.wantIn) {
				t.Errorf("%d %s, want %d with %q", code, body, tt.wantStatus, tt.wantIn)
			}
			if sent := s.emu.patches() > before; sent != tt.wantPatch {
				t.Errorf("PATCH sent upstream: %v, want %v", sent, tt.wantPatch)
			}
		})
	}
}

// userIn is a user of each seed company.
func userIn(company int64) int64 {
	if company == 5120 {
		return 2001
	}
	return 1001
}

func ptr[T any](v T) *T { return &v }
