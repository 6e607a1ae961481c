package service_test

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"golang.org/x/oauth2/clientcredentials"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/test/bufconn"

	directoryv1 "github.com/procore-directory/procore-directory/gen/procore/directory/v1"
	"github.com/procore-directory/procore-directory/service"
	"github.com/procore-directory/procore-directory/upstream"
	"github.com/procore-directory/procore-directory/upstream/procoretest"
)

// stack is the whole service in one process: the emulator on loopback, the
// real upstream client, the gRPC server on an in-memory listener and the
// REST gateway on an httptest server.
type stack struct {
	emu    *procoretest.Server
	client directoryv1.DirectoryServiceClient
	rest   *httptest.Server
	srv    *service.Server
}

type stackConfig struct {
	passThrough bool
	required    service.RequiredFieldsMode
	emuOpts     []procoretest.Option
}

func newStack(t *testing.T, cfg stackConfig) *stack {
	t.Helper()
	emu := procoretest.NewServer(append([]procoretest.Option{procoretest.WithHourlyLimit(0), procoretest.WithSpikeLimit(0)}, cfg.emuOpts...)...)
	t.Cleanup(emu.Close)

	var ts upstream.TokenSource = upstream.PassThrough()
	if !cfg.passThrough {
		admin := adminClient(t, emu)
		ts = upstream.ClientCredentials(clientcredentials.Config{ClientID: admin.ClientID, ClientSecret: admin.ClientSecret, TokenURL: emu.TokenURL})
	}
	up, err := upstream.New(emu.URL, upstream.WithTokenSource(ts))
	if err != nil {
		t.Fatal(err)
	}
	svc, err := service.New(up, service.WithRequiredFields(cfg.required))
	if err != nil {
		t.Fatal(err)
	}
	var opts []service.ServerOption
	if cfg.passThrough {
		opts = append(opts, service.WithPassThroughAuth())
	}
	srv := service.NewServer(svc, opts...)
	t.Cleanup(func() { srv.Shutdown(context.Background()) })
	conn := dialBufconn(t, srv)
	gw, err := service.NewGateway(context.Background(), srv.InProcess())
	if err != nil {
		t.Fatal(err)
	}
	rest := httptest.NewServer(gw)
	t.Cleanup(rest.Close)
	return &stack{emu: emu, client: directoryv1.NewDirectoryServiceClient(conn), rest: rest, srv: srv}
}

// dialBufconn serves srv on an in-memory listener and returns a gRPC client
// connection to it: a network caller of the server, without a port.
func dialBufconn(tb testing.TB, srv *service.Server) *grpc.ClientConn {
	tb.Helper()
	lis := bufconn.Listen(1 << 20)
	go func() { _ = srv.Serve(lis) }()
	conn, err := grpc.NewClient("passthrough:///bufconn",
		grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) { return lis.DialContext(ctx) }),
		grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { conn.Close() })
	return conn
}

func adminClient(t *testing.T, emu *procoretest.Server) procoretest.OAuthClient {
	t.Helper()
	for _, c := range emu.Clients() {
		if c.DirectoryAdmin {
			return c
		}
	}
	t.Fatal("seed has no admin client")
	return procoretest.OAuthClient{}
}

// patches returns the bodies of the PATCH requests the emulator received.
func (s *stack) patches(t *testing.T) []string {
	t.Helper()
	var out []string
	for _, r := range s.emu.Requests() {
		if r.Method == http.MethodPatch {
			out = append(out, string(r.Body))
		}
	}
	return out
}

// do sends a REST request and returns the status and decoded JSON body.
func (s *stack) do(t *testing.T, method, path, contentType, body string, header ...string) (int, http.Header, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(method, s.rest.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := s.rest.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	var out map[string]any
	if len(raw) > 0 && strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		dec := json.NewDecoder(strings.NewReader(string(raw)))
		dec.UseNumber()
		if err := dec.Decode(&out); err != nil {
			t.Fatalf("%s %s: body %q: %v", method, path, raw, err)
		}
	}
	return resp.StatusCode, resp.Header, out
}

func withToken(ctx context.Context, token string) context.Context {
	return metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+token)
}
