package client_test

import (
	"context"
	"net"
	"net/http"
	"testing"

	"golang.org/x/oauth2/clientcredentials"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/fieldmaskpb"

	"github.com/procore-directory/procore-directory/client"
	directoryv1 "github.com/procore-directory/procore-directory/gen/procore/directory/v1"
	"github.com/procore-directory/procore-directory/service"
	"github.com/procore-directory/procore-directory/service/apierr"
	"github.com/procore-directory/procore-directory/service/server"
	"github.com/procore-directory/procore-directory/upstream/procoretest"
)

// realServer starts the emulator and directoryd's server (server.New, as
// cmd/directoryd builds it) on a loopback TCP port, and returns both.
func realServer(t *testing.T) (*procoretest.Server, string) {
	t.Helper()
	emu := procoretest.NewServer(t, procoretest.WithHourlyLimit(0), procoretest.WithSpikeLimit(0), procoretest.WithPartialBodies(true))
	admin, ok := emu.AdminClient()
	if !ok {
		t.Fatal("the seed has no Directory Admin client")
	}
	cfg := server.DefaultConfig()
	cfg.UpstreamURL = emu.URL
	cfg.ClientCredentials = &clientcredentials.Config{ClientID: admin.ClientID, ClientSecret: admin.ClientSecret, TokenURL: emu.TokenURL}
	cfg.RequiredFields = service.RequiredFieldsMaskedOnly // one PATCH per update: the log shows each attempt
	srv, err := server.New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Shutdown(context.Background()) })
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = srv.ServeGRPC(lis) }()
	return emu, lis.Addr().String()
}

// patchStatuses are the statuses Procore answered the PATCHes it received.
func patchStatuses(emu *procoretest.Server) []int {
	var out []int
	for _, r := range emu.Requests() {
		if r.Method == http.MethodPatch {
			out = append(out, r.Status)
		}
	}
	return out
}

// TestRecipe dials the real server with exactly docs/api.md's service config
// (serviceconfig.json, through grpc.WithDefaultServiceConfig). Procore
// answers 503 to each of directoryd's own 4 attempts at the first call's
// PATCH, so the first attempt ends UNAVAILABLE (UPSTREAM_UNAVAILABLE,
// nothing applied); the recipe retries it under the same request_id and
// the update is applied exactly once. The controls show the retry is the
// recipe's: without the service config the call fails; without a
// request_id the server refuses the retry (pushback), and an outcome
// unknown is never retried.
func TestRecipe(t *testing.T) {
	unavailable := []procoretest.Fault{
		procoretest.FaultUnavailableThenRetry(), procoretest.FaultUnavailableThenRetry(),
		procoretest.FaultUnavailableThenRetry(), procoretest.FaultUnavailableThenRetry(),
	}
	outcomeUnknown := append([]procoretest.Fault{procoretest.FaultApplyThenStatus(http.StatusInternalServerError)}, unavailable...) // then the read-back fails
	recipe := client.DialOptions()
	tests := []struct {
		name     string
		dial     []grpc.DialOption
		faults   []procoretest.Fault
		wantCode codes.Code
		want     []int // the PATCHes Procore received, by status
	}{
		{"recipe: UNAVAILABLE retried once, applied once", recipe, unavailable, codes.OK, []int{503, 503, 503, 503, 200}},
		{"no service config: not retried", nil, unavailable, codes.Unavailable, []int{503, 503, 503, 503}},
		{"service config without request ids: the server refuses the retry", []grpc.DialOption{grpc.WithDefaultServiceConfig(client.ServiceConfig())}, unavailable, codes.Unavailable, []int{503, 503, 503, 503}},
		{"recipe: outcome unknown is not retried", recipe, outcomeUnknown, codes.Unavailable, []int{500}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			emu, addr := realServer(t)
			conn, err := grpc.NewClient(addr, append([]grpc.DialOption{grpc.WithTransportCredentials(insecure.NewCredentials())}, tt.dial...)...)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { conn.Close() })
			emu.Script(tt.faults...)
			u, err := directoryv1.NewDirectoryServiceClient(conn).UpdateCompanyUser(context.Background(), &directoryv1.UpdateCompanyUserRequest{
				CompanyId: 8089, Id: 1001,
				User:       &directoryv1.CompanyUser{JobTitle: new("Retried Lead")},
				UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"job_title"}},
			})
			if status.Code(err) != tt.wantCode {
				t.Fatalf("got %v, want %v", err, tt.wantCode)
			}
			if err == nil && u.GetJobTitle() != "Retried Lead" {
				t.Errorf("answered %v", u)
			}
			if info, _ := client.Details(err); err != nil && (info == nil || info.GetDomain() != apierr.Domain) {
				t.Errorf("error %v: no ErrorInfo", err)
			}
			if got := patchStatuses(emu); !equal(got, tt.want) {
				t.Fatalf("PATCHes answered %v, want %v", got, tt.want)
			}
		})
	}
}

func equal(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
