package server_test

// Benchmarks of the facade against its floor: a bare net/http PATCH of the
// same body, with the same headers, to the same in-process Procore emulator
// on loopback (rate limits off). Every path runs in the same `go test -bench`
// run, the bare call first, so each path also reports its ratio to the bare
// call measured just before it (x-bare-wall, x-bare-cpu).
//
// cpu-ns/op is the process's user+system CPU time (getrusage) per call: it
// counts everything in this process, the emulator and the load-generating
// client included, so the ratio to the bare call (whose CPU is the client
// and the emulator only) is the facade's whole cost. See BENCHMARKS.md.
//
// BenchmarkHop, run after it, splits the cost into transport and service.
//
//	go test ./service -run '^$' -bench 'BenchmarkFacade|BenchmarkHop' -benchmem -count 6

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"runtime/debug"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/types/known/fieldmaskpb"

	directoryv1 "github.com/procore-directory/procore-directory/gen/procore/directory/v1"
	"github.com/procore-directory/procore-directory/service"
	"github.com/procore-directory/procore-directory/service/gateway"
	"github.com/procore-directory/procore-directory/service/server"
	"github.com/procore-directory/procore-directory/service/servicetest"
	"github.com/procore-directory/procore-directory/service/telemetry"
	"github.com/procore-directory/procore-directory/upstream"
	"github.com/procore-directory/procore-directory/upstream/procoretest"
)

const (
	benchCompany = 8089
	benchUser    = 1001
	// directorydGCPercent is cmd/directoryd's DefaultGCPercent.
	directorydGCPercent = 400
)

// benchUserFields is the update every path sends: five writable fields,
// last_name and email_address among them, so the emulator (which follows
// the published schema) accepts the body in masked-only mode.
func benchUserFields() *directoryv1.CompanyUser {
	return &directoryv1.CompanyUser{
		LastName:     ptr("Diaz"),
		EmailAddress: ptr("ana.diaz@summitridge.example"),
		JobTitle:     ptr("Senior Project Manager"),
		MobilePhone:  ptr("+1 503 555 0142"),
		IsActive:     ptr(true),
	}
}

var benchMask = []string{"last_name", "email_address", "job_title", "mobile_phone", "is_active"}

// benchUpstreamBody is the exact body the facade sends for the update above
// (upstream.Patch's encoding: keys sorted).
func benchUpstreamBody() []byte {
	var p upstream.Patch
	p.SetString("last_name", "Diaz")
	p.SetString("email_address", "ana.diaz@summitridge.example")
	p.SetString("job_title", "Senior Project Manager")
	p.SetString("mobile_phone", "+1 503 555 0142")
	p.SetBool("is_active", true)
	return p.AppendJSON(nil)
}

// benchRESTBody is the same update as the /v1 route takes it (mask inferred
// from the keys) and as the Procore-compatible route takes it.
const (
	benchRESTBody    = `{"last_name":"Diaz","email_address":"ana.diaz@summitridge.example","job_title":"Senior Project Manager","mobile_phone":"+1 503 555 0142","is_active":true}`
	benchProcoreBody = `{"user":` + benchRESTBody + `}`
)

// staticToken is a TokenSource with one token issued up front, as a
// client-credentials source is once its token is cached.
type staticToken string

func (s staticToken) Credential(context.Context) (upstream.Credential, error) {
	return upstream.Credential{Token: string(s), ID: "bench"}, nil
}

// benchEnv is one emulator, one upstream client, one service and its gRPC
// server on loopback, and the REST gateway on both kinds of channel.
type benchEnv struct {
	emu   *procoretest.Server
	token string
	http  *http.Client // the load-generating client: tuned, shared by all paths
}

func newBenchEnv(b *testing.B) *benchEnv {
	b.Helper()
	// The collector's target of directoryd (its --gc-percent default), for
	// the whole process, the bare call's client and the emulator included.
	// GOGC, when set, wins, as it does for directoryd.
	if os.Getenv("GOGC") == "" {
		prev := debug.SetGCPercent(directorydGCPercent)
		b.Cleanup(func() { debug.SetGCPercent(prev) })
	}
	emu := procoretest.NewServer(b, procoretest.WithHourlyLimit(0), procoretest.WithSpikeLimit(0), procoretest.WithRequestLogSize(64))
	b.Cleanup(emu.Close)
	var admin string
	for _, c := range emu.Clients() {
		if c.DirectoryAdmin {
			admin = c.ClientID
		}
	}
	tok, err := emu.IssueToken(admin)
	if err != nil {
		b.Fatal(err)
	}
	hc := upstream.NewHTTPClient()
	b.Cleanup(hc.CloseIdleConnections)
	return &benchEnv{emu: emu, token: tok, http: hc}
}

// server starts a stack (directoryd's default configuration in
// client-credentials mode against e's emulator, with mode, and with
// telemetry when ops) whose gRPC server also listens on loopback TCP.
func (e *benchEnv) server(b *testing.B, mode service.RequiredFieldsMode, ops bool) *stack {
	b.Helper()
	opts := []stackOption{withSharedEmulator(e.emu), withRequired(mode), withLoopback()}
	if ops {
		opts = append(opts, withConfig(func(cfg *server.Config) { cfg.Telemetry, cfg.Logger = opsTelemetry(b) }))
	}
	return startStack(b, opts...)
}

// gateway serves a gateway over conn on a loopback HTTP listener and
// returns its base URL.
func (e *benchEnv) gateway(b *testing.B, conn grpc.ClientConnInterface) string {
	b.Helper()
	gw, err := gateway.New(context.Background(), conn)
	if err != nil {
		b.Fatal(err)
	}
	return e.serveHTTP(b, gw)
}

// serveHTTP serves h on a loopback HTTP listener and returns its base URL.
func (e *benchEnv) serveHTTP(b *testing.B, h http.Handler) string {
	b.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	hs := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = hs.Serve(lis) }()
	b.Cleanup(func() { _ = hs.Close() })
	return "http://" + lis.Addr().String()
}

// opsTelemetry is directoryd's telemetry: a JSON access log at info
// (discarded), Prometheus metrics and OpenTelemetry spans that are
// sampled but not exported.
func opsTelemetry(b *testing.B) (*telemetry.Telemetry, *slog.Logger) {
	b.Helper()
	tel, err := telemetry.New(context.Background())
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = tel.Shutdown(context.Background()) })
	return tel, slog.New(slog.NewJSONHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelInfo}))
}

// cpuTime is the process's user+system CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// bareCost is the last bare call's wall and CPU time per op, the
// denominators of every other path's ratios.
var bareCost struct {
	sync.Mutex
	wall, cpu [2]float64 // [sequential, parallel]
}

// benchParallelism is how many goroutines per GOMAXPROCS the parallel
// variants run: concurrent callers, as under load.
const benchParallelism = 8

// measure runs op b.N times, sequentially (conc=1: per-call latency) or
// from benchParallelism*GOMAXPROCS goroutines (throughput under load), and
// reports CPU per op and, unless bare, the ratios to the bare call measured
// in the same mode just before (bare: this is the bare call; record it).
func measure(b *testing.B, bare bool, op func() error) {
	b.Helper()
	parallel := strings.Contains(b.Name(), "conc=par")
	for range 200 { // warm connections, pools and caches
		if err := op(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	b.ResetTimer()
	cpu0, wall0 := cpuTime(), time.Now()
	if parallel {
		b.SetParallelism(benchParallelism)
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if err := op(); err != nil {
					b.Error(err)
					return
				}
			}
		})
	} else {
		for i := 0; i < b.N; i++ {
			if err := op(); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.StopTimer()
	wall, cpu := float64(time.Since(wall0).Nanoseconds())/float64(b.N), float64((cpuTime()-cpu0).Nanoseconds())/float64(b.N)
	b.ReportMetric(cpu, "cpu-ns/op")
	key := 0
	if parallel {
		key = 1
	}
	bareCost.Lock()
	defer bareCost.Unlock()
	if bare {
		bareCost.wall[key], bareCost.cpu[key] = wall, cpu
		return
	}
	if bareCost.wall[key] > 0 {
		b.ReportMetric(wall/bareCost.wall[key], "x-bare-wall")
		b.ReportMetric(cpu/bareCost.cpu[key], "x-bare-cpu")
	}
}

// httpPatch sends one PATCH and fails unless the answer is 200.
func httpPatch(hc *http.Client, url, body string, header http.Header) error {
	req, err := http.NewRequest(http.MethodPatch, url, strings.NewReader(body))
	if err != nil {
		return err
	}
	req.Header = header.Clone()
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	_, err = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("PATCH %s: %s", url, resp.Status)
	}
	return err
}

func grpcUpdate(client directoryv1.DirectoryServiceClient, req *directoryv1.UpdateCompanyUserRequest) error {
	u, err := client.UpdateCompanyUser(context.Background(), req)
	if err != nil {
		return err
	}
	if u.GetId() != benchUser {
		return fmt.Errorf("updated user %d", u.GetId())
	}
	return nil
}

// BenchmarkFacade compares, in one run, one UpdateCompanyUser on each path
// with the bare upstream PATCH of the same body.
func BenchmarkFacade(b *testing.B) {
	e := newBenchEnv(b)
	upstreamURL := fmt.Sprintf("%s/rest/v1.3/companies/%d/users/%d", e.emu.URL, benchCompany, benchUser)
	upstreamBody := string(benchUpstreamBody())
	bareHeader := http.Header{
		"Authorization":      {"Bearer " + e.token},
		"Procore-Company-Id": {fmt.Sprint(benchCompany)},
		"Content-Type":       {"application/json"},
		"Accept":             {"application/json"},
		"User-Agent":         {"procore-directory/upstream"},
	}
	restHeader := http.Header{"Content-Type": {"application/json"}}
	grpcReq := &directoryv1.UpdateCompanyUserRequest{
		CompanyId: benchCompany, Id: benchUser, User: benchUserFields(),
		UpdateMask: &fieldmaskpb.FieldMask{Paths: benchMask},
	}

	s := e.server(b, service.RequiredFieldsMaskedOnly, false)
	gwInproc := e.serveHTTP(b, s.srv.Handler())
	gwBufconn := e.gateway(b, s.conn)
	gwTCP := e.gateway(b, s.tcp)
	client := directoryv1.NewDirectoryServiceClient(s.tcp)

	// The facade must send the bare call's exact body: check it once.
	if err := grpcUpdate(client, grpcReq); err != nil {
		b.Fatal(err)
	}
	if got := lastPatch(e.emu); got != upstreamBody {
		b.Fatalf("facade sent %s\nbare sends %s", got, upstreamBody)
	}

	v1 := fmt.Sprintf("/v1/companies/%d/users/%d", benchCompany, benchUser)
	procore := fmt.Sprintf("/rest/v1.3/companies/%d/users/%d", benchCompany, benchUser)
	for _, conc := range []string{"conc=1", "conc=par"} {
		b.Run(conc+"/path=bare-http", func(b *testing.B) {
			measure(b, true, func() error { return httpPatch(e.http, upstreamURL, upstreamBody, bareHeader) })
		})
		b.Run(conc+"/path=grpc-loopback", func(b *testing.B) {
			measure(b, false, func() error { return grpcUpdate(client, grpcReq) })
		})
		b.Run(conc+"/path=rest-gateway-inproc", func(b *testing.B) {
			measure(b, false, func() error { return httpPatch(e.http, gwInproc+v1, benchRESTBody, restHeader) })
		})
		b.Run(conc+"/path=rest-gateway-bufconn", func(b *testing.B) {
			measure(b, false, func() error { return httpPatch(e.http, gwBufconn+v1, benchRESTBody, restHeader) })
		})
		b.Run(conc+"/path=rest-gateway-loopback", func(b *testing.B) {
			measure(b, false, func() error { return httpPatch(e.http, gwTCP+v1, benchRESTBody, restHeader) })
		})
		b.Run(conc+"/path=rest-procore-route-inproc", func(b *testing.B) {
			measure(b, false, func() error { return httpPatch(e.http, gwInproc+procore, benchProcoreBody, restHeader) })
		})
	}

	// directoryd's interceptors and middleware: access log, metrics, spans.
	ops := e.server(b, service.RequiredFieldsMaskedOnly, true)
	opsClient := directoryv1.NewDirectoryServiceClient(ops.tcp)
	opsGW := e.serveHTTP(b, ops.srv.Handler())
	for _, conc := range []string{"conc=1", "conc=par"} {
		b.Run(conc+"/path=grpc-loopback+ops", func(b *testing.B) {
			measure(b, false, func() error { return grpcUpdate(opsClient, grpcReq) })
		})
		b.Run(conc+"/path=rest-gateway-inproc+ops", func(b *testing.B) {
			measure(b, false, func() error { return httpPatch(e.http, opsGW+v1, benchRESTBody, restHeader) })
		})
	}

	// fill: a mask without last_name/email_address costs a GET by design.
	fillClient := directoryv1.NewDirectoryServiceClient(e.server(b, service.RequiredFieldsFill, false).tcp)
	fillReq := &directoryv1.UpdateCompanyUserRequest{
		CompanyId: benchCompany, Id: benchUser,
		User:       &directoryv1.CompanyUser{JobTitle: ptr("Senior Project Manager"), MobilePhone: ptr("+1 503 555 0142"), IsActive: ptr(true)},
		UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"job_title", "mobile_phone", "is_active"}},
	}
	for _, conc := range []string{"conc=1", "conc=par"} {
		b.Run(conc+"/path=grpc-loopback-fill", func(b *testing.B) {
			measure(b, false, func() error { return grpcUpdate(fillClient, fillReq) })
		})
	}
}

// cannedDirectory answers UpdateCompanyUser with a fixed user and does
// nothing else: behind it, a path measures only grpc-go's client and
// server, the part of the gRPC path's cost no work in the service removes.
type cannedDirectory struct {
	directoryv1.UnimplementedDirectoryServiceServer
	user *directoryv1.CompanyUser
}

func (c *cannedDirectory) UpdateCompanyUser(context.Context, *directoryv1.UpdateCompanyUserRequest) (*directoryv1.CompanyUser, error) {
	return c.user, nil
}

// BenchmarkHop splits the facade's cost, in the same run as
// BenchmarkFacade (run both; ratios are to its bare call):
//
//   - grpc-loopback-canned: grpc-go's client and server on loopback with a
//     handler that returns a fixed reply, the transport alone;
//   - grpc-loopback-no-upstream, rest-gateway-inproc-no-upstream: the whole
//     facade (interceptors, validation, translation, conversion) with a
//     Procore client that answers at once, without I/O.
//
// The facade's cost on a path is about the bare call plus the second one.
func BenchmarkHop(b *testing.B) {
	e := newBenchEnv(b)
	up, err := upstream.New(e.emu.URL, upstream.WithTokenSource(staticToken(e.token)))
	if err != nil {
		b.Fatal(err)
	}
	record, err := up.GetCompanyUser(context.Background(), benchCompany, benchUser)
	if err != nil {
		b.Fatal(err)
	}
	s := startStack(b, withUpstream(&servicetest.Upstream{Current: record, Discard: true}),
		withRequired(service.RequiredFieldsMaskedOnly), withLoopback())
	facade := directoryv1.NewDirectoryServiceClient(s.tcp)
	gw := e.serveHTTP(b, s.srv.Handler())

	grpcReq := &directoryv1.UpdateCompanyUserRequest{CompanyId: benchCompany, Id: benchUser, User: benchUserFields(),
		UpdateMask: &fieldmaskpb.FieldMask{Paths: benchMask}}
	reply, err := facade.UpdateCompanyUser(context.Background(), grpcReq)
	if err != nil {
		b.Fatal(err)
	}
	g := grpc.NewServer()
	directoryv1.RegisterDirectoryServiceServer(g, &cannedDirectory{user: reply})
	glis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	go func() { _ = g.Serve(glis) }()
	b.Cleanup(g.Stop)
	canned := dialBench(b, glis.Addr().String())

	v1 := fmt.Sprintf("/v1/companies/%d/users/%d", benchCompany, benchUser)
	restHeader := http.Header{"Content-Type": {"application/json"}}
	for _, conc := range []string{"conc=1", "conc=par"} {
		b.Run(conc+"/path=grpc-loopback-canned", func(b *testing.B) {
			measure(b, false, func() error { return grpcUpdate(canned, grpcReq) })
		})
		b.Run(conc+"/path=grpc-loopback-no-upstream", func(b *testing.B) {
			measure(b, false, func() error { return grpcUpdate(facade, grpcReq) })
		})
		b.Run(conc+"/path=rest-gateway-inproc-no-upstream", func(b *testing.B) {
			measure(b, false, func() error { return httpPatch(e.http, gw+v1, benchRESTBody, restHeader) })
		})
	}
}

// dialBench is a DirectoryService client on loopback TCP.
func dialBench(b *testing.B, addr string) directoryv1.DirectoryServiceClient {
	b.Helper()
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { conn.Close() })
	return directoryv1.NewDirectoryServiceClient(conn)
}

// lastPatch returns the body of the last PATCH the emulator received.
func lastPatch(emu *procoretest.Server) string {
	reqs := emu.Requests()
	for i := len(reqs) - 1; i >= 0; i-- {
		if reqs[i].Method == http.MethodPatch {
			return string(bytes.TrimSpace(reqs[i].Body))
		}
	}
	return ""
}
