package server

import (
	"crypto/tls"
	"log/slog"
	"time"

	"golang.org/x/oauth2/clientcredentials"
	"google.golang.org/grpc/credentials"

	"github.com/procore-directory/procore-directory/service"
	"github.com/procore-directory/procore-directory/service/batch"
	"github.com/procore-directory/procore-directory/service/operations"
	"github.com/procore-directory/procore-directory/service/state"
	"github.com/procore-directory/procore-directory/service/state/redisstate"
	"github.com/procore-directory/procore-directory/service/telemetry"
	"github.com/procore-directory/procore-directory/upstream"
	"github.com/procore-directory/procore-directory/upstream/admission"
)

// Limits' defaults.
const (
	// DefaultMaxRecvMsgSize is just above the largest request: a 10 MiB
	// avatar plus the user's other fields.
	DefaultMaxRecvMsgSize = 10<<20 + 256<<10
	// DefaultMaxHeaderListSize bounds a call's metadata (gRPC): room for a
	// bearer token, trace context and request id, not for abuse.
	DefaultMaxHeaderListSize = 64 << 10
	// DefaultMaxHeaderBytes is the HTTP server's header limit, likewise.
	DefaultMaxHeaderBytes = 64 << 10
	// DefaultCallTimeout is the longest a call may run, whatever deadline
	// the caller asked for (or none).
	DefaultCallTimeout = 30 * time.Second
	// DefaultMaxConcurrentUpstream is how many Procore requests may be in
	// flight at once.
	DefaultMaxConcurrentUpstream = upstream.DefaultMaxConcurrent
	// DefaultUpstreamQueueTimeout is the longest a call waits for one of
	// those slots before it is told to come back later.
	DefaultUpstreamQueueTimeout = upstream.DefaultQueueTimeout
	// DefaultStopAnswerGrace is how long, after the shutdown deadline, the
	// calls still in flight have to write their UNAVAILABLE answer before
	// their connections are closed: they only map an error and write it.
	DefaultStopAnswerGrace = time.Second
	// DefaultStreamWorkers is how many goroutines the gRPC server keeps to
	// run calls. A call on a fresh goroutine grows its stack from 8 KiB to
	// what protovalidate, JSON and the HTTP client need, copying it each
	// time; a kept worker has grown it already (what that saves is in
	// BENCHMARKS.md, "Stream workers"). Calls beyond the workers in flight
	// at once get a goroutine of their own.
	DefaultStreamWorkers = 64

	// DefaultHTTPReadHeaderTimeout is how long an HTTP request's header may
	// take to arrive: a header trickled a byte at a time (slowloris) holds
	// a connection and a goroutine no longer.
	DefaultHTTPReadHeaderTimeout = 10 * time.Second
	// DefaultHTTPReadTimeout is how long a whole HTTP request, header and
	// body, may take to arrive. The call time-out starts only once the body
	// is read, so without it a body trickled slowly holds a connection for
	// ever; 30 s still carries the largest body (15 MiB) at 500 KiB/s.
	DefaultHTTPReadTimeout = 30 * time.Second
	// DefaultHTTPIdleTimeout is how long a keep-alive connection may wait
	// for its next request.
	DefaultHTTPIdleTimeout = 2 * time.Minute
	// DefaultHTTPMaxConcurrentStreams is how many requests one HTTP/2
	// connection to the REST listener (over TLS) may have open at once, as
	// on the gRPC listener; Go's own default is 250.
	DefaultHTTPMaxConcurrentStreams = 100
	// DefaultGRPCMaxConcurrentStreams is how many streams (calls) one gRPC
	// connection may have open at once; a client past it waits for one to
	// end. grpc-go's own default is unlimited.
	DefaultGRPCMaxConcurrentStreams = 100
	// DefaultGRPCKeepaliveMinTime is the shortest interval between a
	// client's keepalive pings; a client pinging more often is sent GOAWAY
	// (ENHANCE_YOUR_CALM), so pings cannot be used to keep the server busy.
	DefaultGRPCKeepaliveMinTime = 30 * time.Second
	// DefaultGRPCMaxConnectionIdle closes a gRPC connection that had no
	// call for this long (with GOAWAY: clients reconnect transparently), so
	// idle connections do not pile up.
	DefaultGRPCMaxConnectionIdle = 5 * time.Minute
	// DefaultMaxWatchStreams caps the Health/Watch streams open at once,
	// over every connection: each holds a goroutine and buffers (~8 KiB)
	// for as long as the caller likes, unauthenticated. Health checkers
	// need one per client; more are refused with RESOURCE_EXHAUSTED.
	DefaultMaxWatchStreams = 1024
	// DefaultUpstreamMaxResponseHeaderBytes bounds each Procore response's
	// header (the body is bounded separately, to 1 MiB).
	DefaultUpstreamMaxResponseHeaderBytes = upstream.DefaultMaxResponseHeaderBytes
)

// Limits bound what one caller, or many at once, can make directoryd
// hold: message and header sizes, call duration, upstream concurrency,
// and how long and how many connections and streams stay open. Each is a
// flag of cmd/directoryd (limits.go); a zero value is not "unlimited"
// unless said so: DefaultConfig has the defaults.
type Limits struct {
	MaxRecvMsgSize        int
	MaxHeaderListSize     int
	MaxHeaderBytes        int
	CallTimeout           time.Duration
	MaxConcurrentUpstream int           // 0: unlimited
	UpstreamQueueTimeout  time.Duration // longest wait for an upstream slot

	// HTTP listener.
	HTTPReadHeaderTimeout time.Duration
	HTTPReadTimeout       time.Duration // the whole request, body included
	HTTPIdleTimeout       time.Duration
	// HTTPMaxConcurrentStreams bounds the requests open at once on one
	// HTTP/2 connection (the REST listener speaks HTTP/2 over TLS).
	HTTPMaxConcurrentStreams uint32

	// gRPC listener.
	GRPCMaxConcurrentStreams         uint32 // per connection
	GRPCKeepaliveMinTime             time.Duration
	GRPCKeepalivePermitWithoutStream bool
	GRPCMaxConnectionIdle            time.Duration
	MaxWatchStreams                  int // Health/Watch streams at once, all connections

	// UpstreamMaxResponseHeaderBytes bounds each Procore response header.
	UpstreamMaxResponseHeaderBytes int64
}

// Config is the whole serving stack's configuration: what cmd/directoryd
// builds from its flags, and what tests build to run the same stack.
// Start from DefaultConfig.
type Config struct {
	// UpstreamURL is Procore's API base, e.g. https://api.procore.com.
	UpstreamURL string
	// ClientCredentials is directoryd's own Procore credential
	// (client-credentials mode). Nil: pass-through mode, where every
	// DirectoryService call must carry the caller's own Procore token.
	ClientCredentials *clientcredentials.Config
	// TokenOptions configure the client-credentials token source.
	TokenOptions []upstream.ClientCredentialsOption
	// UpstreamOptions are added last to the Procore client's options (an
	// HTTP client, back-off, ...).
	UpstreamOptions []upstream.Option
	// Upstream, when set, replaces the Procore client altogether: tests
	// and benchmarks that measure the service without I/O.
	Upstream service.Upstream

	// RequiredFields is the service's required-fields mode.
	RequiredFields service.RequiredFieldsMode
	// AdminFields is how Procore reads its admin-only rule (changed or
	// included), which decides whether email_address is filled.
	AdminFields service.AdminFields
	// Limits bound sizes, durations and upstream concurrency.
	Limits Limits
	// PacingBurst is Procore requests per credential that go at once
	// before pacing; 0 turns pacing off.
	PacingBurst int
	// Breaker configures the circuit breaker around Procore.
	Breaker upstream.BreakerConfig
	// StreamWorkers is grpc.NumStreamWorkers; 0 starts a goroutine per call.
	StreamWorkers int
	// StopAnswerGrace: see DefaultStopAnswerGrace.
	StopAnswerGrace time.Duration

	// IdempotencyRetention and IdempotencyMaxKeys bound the in-memory
	// request_id store (state.MemoryStore); IdempotencyStore, when set,
	// replaces it, and Locker the per-user write lock (a shared store for
	// a fleet of replicas).
	IdempotencyRetention time.Duration
	IdempotencyMaxKeys   int
	IdempotencyStore     state.IdempotencyStore
	Locker               state.Locker
	// PartialBodies, when set, replaces --required-fields=auto's
	// in-process memory of the companies that refuse partial bodies.
	PartialBodies service.PartialBodyMemory

	// SharedState, when set, makes this replica share with the fleet,
	// through Redis: Procore's rate budget per credential, the request_id
	// records, the per-user write locks and PartialBodies (each unless set
	// explicitly above). While Redis is down each falls back to its
	// in-process default, and /readyz says so. Nil: in-process state only.
	SharedState *redisstate.Conn

	// Batch configures BatchUpdateCompanyUsers and its operations.
	Batch BatchConfig
	// Audit is where the trail of every write goes (audit.go).
	Audit AuditConfig

	// GRPCCredentials secure the gRPC listener; nil: plaintext.
	GRPCCredentials credentials.TransportCredentials
	// HTTPTLS secures the HTTP listener; nil: plaintext.
	HTTPTLS *tls.Config
	// MutualTLS makes every DirectoryService call prove its caller with a
	// verified client certificate (service/auth.CallerAuthentication), and
	// the gateway forward it.
	MutualTLS bool
	// Authorizer, when set, enforces the authorization policy.
	Authorizer service.Authorizer

	// Telemetry instruments everything; nil: no metrics and no spans (the
	// access log is still written, to Logger).
	Telemetry *telemetry.Telemetry
	// Logger receives the access log, panics and lifecycle events; nil
	// discards.
	Logger *slog.Logger
}

// DefaultConfig is directoryd's default configuration, without an
// upstream URL.
func DefaultConfig() Config {
	return Config{
		RequiredFields: service.RequiredFieldsAuto,
		Limits: Limits{
			MaxRecvMsgSize:        DefaultMaxRecvMsgSize,
			MaxHeaderListSize:     DefaultMaxHeaderListSize,
			MaxHeaderBytes:        DefaultMaxHeaderBytes,
			CallTimeout:           DefaultCallTimeout,
			MaxConcurrentUpstream: DefaultMaxConcurrentUpstream,
			UpstreamQueueTimeout:  DefaultUpstreamQueueTimeout,

			HTTPReadHeaderTimeout:          DefaultHTTPReadHeaderTimeout,
			HTTPReadTimeout:                DefaultHTTPReadTimeout,
			HTTPIdleTimeout:                DefaultHTTPIdleTimeout,
			HTTPMaxConcurrentStreams:       DefaultHTTPMaxConcurrentStreams,
			GRPCMaxConcurrentStreams:       DefaultGRPCMaxConcurrentStreams,
			GRPCKeepaliveMinTime:           DefaultGRPCKeepaliveMinTime,
			GRPCMaxConnectionIdle:          DefaultGRPCMaxConnectionIdle,
			MaxWatchStreams:                DefaultMaxWatchStreams,
			UpstreamMaxResponseHeaderBytes: DefaultUpstreamMaxResponseHeaderBytes,
		},
		PacingBurst:          upstream.DefaultPacingBurst,
		Breaker:              upstream.DefaultBreakerConfig(),
		StreamWorkers:        DefaultStreamWorkers,
		StopAnswerGrace:      DefaultStopAnswerGrace,
		IdempotencyRetention: state.DefaultRetention,
		IdempotencyMaxKeys:   state.DefaultMaxKeys,
		Batch: BatchConfig{
			MaxItems:           batch.DefaultMaxItems,
			ChunkSize:          batch.DefaultChunkSize,
			OperationRetention: operations.DefaultRetention,
			Lease:              batch.DefaultLease,
			BudgetShare:        admission.DefaultBatchBudgetShare,
		},
	}
}

// withDefaults returns l with each listener limit left at zero set to its
// default, so a Config built without DefaultConfig (tests) is not left
// without bounds by accident.
func (l Limits) withDefaults() Limits {
	def := DefaultConfig().Limits
	setDuration := func(v *time.Duration, d time.Duration) {
		if *v <= 0 {
			*v = d
		}
	}
	setDuration(&l.HTTPReadHeaderTimeout, def.HTTPReadHeaderTimeout)
	setDuration(&l.HTTPReadTimeout, def.HTTPReadTimeout)
	setDuration(&l.HTTPIdleTimeout, def.HTTPIdleTimeout)
	setDuration(&l.GRPCKeepaliveMinTime, def.GRPCKeepaliveMinTime)
	setDuration(&l.GRPCMaxConnectionIdle, def.GRPCMaxConnectionIdle)
	if l.HTTPMaxConcurrentStreams == 0 {
		l.HTTPMaxConcurrentStreams = def.HTTPMaxConcurrentStreams
	}
	if l.GRPCMaxConcurrentStreams == 0 {
		l.GRPCMaxConcurrentStreams = def.GRPCMaxConcurrentStreams
	}
	if l.MaxWatchStreams <= 0 {
		l.MaxWatchStreams = def.MaxWatchStreams
	}
	if l.UpstreamMaxResponseHeaderBytes <= 0 {
		l.UpstreamMaxResponseHeaderBytes = def.UpstreamMaxResponseHeaderBytes
	}
	return l
}
