package server_test

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
	"github.com/procore-directory/procore-directory/service/server"
	"github.com/procore-directory/procore-directory/upstream/procoretest"
)

// stack is the whole service in one process, built by server.New as
// directoryd builds it: the emulator on loopback, the real upstream client,
// the gRPC server on an in-memory listener and the REST gateway on an
// httptest server.
type stack struct {
	emu    *procoretest.Server
	client directoryv1.DirectoryServiceClient
	rest   *httptest.Server
	srv    *server.Server
}

type stackConfig struct {
	passThrough bool
	required    service.RequiredFieldsMode
	emuOpts     []procoretest.Option
}

func newStack(t *testing.T, cfg stackConfig) *stack {
	t.Helper()
	emu := procoretest.NewServer(t, append([]procoretest.Option{procoretest.WithHourlyLimit(0), procoretest.WithSpikeLimit(0)}, cfg.emuOpts...)...)
	sc := stackServerConfig(t, emu, !cfg.passThrough)
	sc.RequiredFields = cfg.required
	return startStack(t, emu, sc)
}

// stackServerConfig is directoryd's default configuration against emu: in
// client-credentials mode with the seed's Directory Admin client, or in
// pass-through mode.
func stackServerConfig(tb testing.TB, emu *procoretest.Server, clientCredentials bool) server.Config {
	tb.Helper()
	cfg := server.DefaultConfig()
	cfg.UpstreamURL = emu.URL
	if clientCredentials {
		admin, ok := emu.AdminClient()
		if !ok {
			tb.Fatal("the seed has no Directory Admin client")
		}
		cfg.ClientCredentials = &clientcredentials.Config{ClientID: admin.ClientID, ClientSecret: admin.ClientSecret, TokenURL: emu.TokenURL}
	}
	return cfg
}

// startStack builds cfg with server.New, serves gRPC on an in-memory
// listener and REST on an httptest server, and stops everything when the
// test ends.
func startStack(tb testing.TB, emu *procoretest.Server, cfg server.Config) *stack {
	tb.Helper()
	srv, err := server.New(context.Background(), cfg)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { srv.Shutdown(context.Background()) })
	conn := dialBufconn(tb, srv)
	rest := httptest.NewServer(srv.Handler())
	tb.Cleanup(rest.Close)
	tb.Cleanup(rest.Client().CloseIdleConnections)
	return &stack{emu: emu, client: directoryv1.NewDirectoryServiceClient(conn), rest: rest, srv: srv}
}

// dialBufconn serves srv on an in-memory listener and returns a gRPC client
// connection to it: a network caller of the server, without a port.
func dialBufconn(tb testing.TB, srv *server.Server) *grpc.ClientConn {
	tb.Helper()
	lis := bufconn.Listen(1 << 20)
	go func() { _ = srv.ServeGRPC(lis) }()
	conn, err := grpc.NewClient("passthrough:///bufconn",
		grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) { return lis.DialContext(ctx) }),
		grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { conn.Close() })
	return conn
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
