// Package inprocess is a grpc.ClientConnInterface whose calls run in this
// process, on the handlers registered with it, behind the same unary
// interceptor chain and stats handlers as the gRPC server's: how the REST
// gateway calls the service without a socket, HTTP/2 or protobuf encoding.
// That is its one job.
//
// It knows nothing of DirectoryService, HTTP or telemetry: it must not
// import this module's packages (generated code, the service core,
// service/server), net/http or OpenTelemetry; it imports only the
// standard library, grpc-go and protobuf.
package inprocess

import (
	"context"
	"sync"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/stats"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
)

// Channel is a grpc.ClientConnInterface whose calls run in this
// process, on the handlers registered with it, behind the same unary
// interceptor chain and stats handlers as the gRPC server's. It is how the
// REST gateway calls the service: a call costs what the interceptors and
// the handler cost, not an HTTP/2 round trip with protobuf encoding on both
// sides (what that hop cost is in BENCHMARKS.md).
//
// What a network call gets from grpc-go, an in-process call gets too:
// incoming metadata (the caller's outgoing metadata), a peer, a
// ServerTransportStream for grpc.SetHeader/SetTrailer whose metadata
// reaches the grpc.Header/grpc.Trailer call options, a copied request and
// reply (neither side can see the other's later writes), status errors
// converted the way the server converts them, and a graceful stop.
//
// The peer's AuthInfo is AuthInfo: only code holding the channel can make
// such a call, which is why caller authentication (service/auth) believes
// the caller identity the gateway forwards on it and nowhere else.
type Channel struct {
	methods     map[string]method
	interceptor grpc.UnaryServerInterceptor // the server's whole chain; nil for none
	stats       []stats.Handler
	peer        *peer.Peer

	mu       sync.RWMutex // guards closed against inflight.Add
	closed   bool
	inflight sync.WaitGroup
	abort    context.Context // done when a graceful stop times out
	abortAll context.CancelFunc
}

// method is one unary method: the generated handler and the
// implementation it calls.
type method struct {
	impl    any
	handler grpc.MethodHandler
}

// AuthInfo is the credentials.AuthInfo of an in-process call: the proof,
// for caller authentication, that the call came from code holding the
// channel (the gateway), not from the network.
type AuthInfo struct{ credentials.CommonAuthInfo }

// AuthType implements credentials.AuthInfo.
func (AuthInfo) AuthType() string { return "in-process" }

// addr is the peer address of an in-process call, for logs and
// instrumentation that print one.
type addr struct{}

func (addr) Network() string { return "inprocess" }
func (addr) String() string  { return "in-process" }

// New returns a channel that runs calls behind interceptors (the first
// outermost, as grpc.ChainUnaryInterceptor orders them) and statsHandlers;
// services are added with RegisterService.
func New(interceptors []grpc.UnaryServerInterceptor, statsHandlers []stats.Handler) *Channel {
	abort, abortAll := context.WithCancel(context.Background())
	return &Channel{
		methods:     map[string]method{},
		interceptor: chainUnary(interceptors),
		stats:       statsHandlers,
		peer: &peer.Peer{Addr: addr{}, AuthInfo: AuthInfo{
			CommonAuthInfo: credentials.CommonAuthInfo{SecurityLevel: credentials.PrivacyAndIntegrity},
		}},
		abort:    abort,
		abortAll: abortAll,
	}
}

// RegisterService implements grpc.ServiceRegistrar, so the generated
// Register*Server functions register on the channel as on a grpc.Server.
// Only unary methods are served in process.
func (c *Channel) RegisterService(desc *grpc.ServiceDesc, impl any) {
	for _, m := range desc.Methods {
		c.methods["/"+desc.ServiceName+"/"+m.MethodName] = method{impl: impl, handler: m.Handler}
	}
}

// Invoke implements grpc.ClientConnInterface.
func (c *Channel) Invoke(ctx context.Context, method string, args, reply any, opts ...grpc.CallOption) error {
	m, ok := c.methods[method]
	if !ok {
		return status.Errorf(codes.Unimplemented, "unknown method %s", method)
	}
	in, inOK := args.(proto.Message)
	out, outOK := reply.(proto.Message)
	if !inOK || !outOK {
		return status.Errorf(codes.Internal, "in-process call %s: request and reply must be protobuf messages", method)
	}
	if !c.enter() {
		return status.Error(codes.Unavailable, "the server is shutting down")
	}
	defer c.inflight.Done()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	defer context.AfterFunc(c.abort, cancel)()

	// The server side sees the caller's outgoing metadata as incoming, and
	// starts with no outgoing metadata of its own.
	md, _ := metadata.FromOutgoingContext(ctx)
	ctx = metadata.NewIncomingContext(metadata.NewOutgoingContext(ctx, nil), md)
	ctx = peer.NewContext(ctx, c.peer)
	stream := &stream{method: method}
	ctx = grpc.NewContextWithServerTransportStream(ctx, stream)

	begin := time.Now()
	for _, h := range c.stats {
		ctx = h.TagRPC(ctx, &stats.RPCTagInfo{FullMethodName: method})
	}
	for _, h := range c.stats {
		h.HandleRPC(ctx, &stats.Begin{BeginTime: begin})
	}
	resp, err := m.handler(m.impl, ctx, func(v any) error {
		dst, ok := v.(proto.Message)
		if !ok {
			return status.Errorf(codes.Internal, "in-process call %s: handler request is not a protobuf message", method)
		}
		proto.Merge(dst, in)
		return nil
	}, c.interceptor)
	if err == nil {
		if r, ok := resp.(proto.Message); ok && r.ProtoReflect().IsValid() {
			proto.Merge(out, r)
		} else {
			err = status.Errorf(codes.Internal, "in-process call %s: handler returned no message", method)
		}
	}
	if err != nil {
		// As grpc-go's server does: a status error as it is, a context
		// error as CANCELLED or DEADLINE_EXCEEDED, anything else UNKNOWN.
		st, ok := status.FromError(err)
		if !ok {
			st = status.FromContextError(err)
		}
		err = st.Err()
	}
	if len(c.stats) > 0 {
		end := &stats.End{BeginTime: begin, EndTime: time.Now(), Error: err}
		for _, h := range c.stats {
			h.HandleRPC(ctx, end)
		}
	}
	for _, o := range opts {
		switch o := o.(type) {
		case grpc.HeaderCallOption:
			*o.HeaderAddr = stream.headerMD()
		case grpc.TrailerCallOption:
			*o.TrailerAddr = stream.trailerMD()
		case grpc.PeerCallOption:
			*o.PeerAddr = *c.peer
		}
	}
	return err
}

// NewStream implements grpc.ClientConnInterface: the gateway makes unary
// calls only, so streams are not carried in process.
func (c *Channel) NewStream(context.Context, *grpc.StreamDesc, string, ...grpc.CallOption) (grpc.ClientStream, error) {
	return nil, status.Error(codes.Unimplemented, "the in-process channel carries unary calls only")
}

// enter admits a call unless the channel is stopping.
func (c *Channel) enter() bool {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if c.closed {
		return false
	}
	c.inflight.Add(1)
	return true
}

// Stop refuses new calls (UNAVAILABLE), waits for the calls in flight until ctx is done,
// then cancels those left and waits for them to return. It reports whether
// every call finished on its own.
func (c *Channel) Stop(ctx context.Context) bool {
	c.mu.Lock()
	c.closed = true
	c.mu.Unlock()
	done := make(chan struct{})
	go func() {
		c.inflight.Wait()
		close(done)
	}()
	select {
	case <-done:
		return true
	case <-ctx.Done():
		c.abortAll()
		<-done
		return false
	}
}

// stream is the grpc.ServerTransportStream of an in-process
// call: it keeps the header and trailer metadata the handler sets.
type stream struct {
	method string

	mu         sync.Mutex
	header     metadata.MD
	trailer    metadata.MD
	headerSent bool
}

// Method implements grpc.ServerTransportStream.
func (s *stream) Method() string { return s.method }

// SetHeader implements grpc.ServerTransportStream.
func (s *stream) SetHeader(md metadata.MD) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.headerSent {
		return status.Error(codes.Internal, "transport: the header was already sent")
	}
	s.header = metadata.Join(s.header, md)
	return nil
}

// SendHeader implements grpc.ServerTransportStream.
func (s *stream) SendHeader(md metadata.MD) error {
	if err := s.SetHeader(md); err != nil {
		return err
	}
	s.mu.Lock()
	s.headerSent = true
	s.mu.Unlock()
	return nil
}

// SetTrailer implements grpc.ServerTransportStream.
func (s *stream) SetTrailer(md metadata.MD) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.trailer = metadata.Join(s.trailer, md)
	return nil
}

func (s *stream) headerMD() metadata.MD {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.header
}

func (s *stream) trailerMD() metadata.MD {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.trailer
}

// chainUnary composes interceptors into one, the first outermost, as
// grpc.ChainUnaryInterceptor does on the server (grpc-go does not export
// its composition, and the in-process channel must run the same chain).
func chainUnary(interceptors []grpc.UnaryServerInterceptor) grpc.UnaryServerInterceptor {
	switch len(interceptors) {
	case 0:
		return nil
	case 1:
		return interceptors[0]
	}
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		return interceptors[0](ctx, req, info, chainedHandler(interceptors, 0, info, handler))
	}
}

// chainedHandler is the handler interceptors[curr] calls: the next
// interceptor, or the method itself after the last one.
func chainedHandler(interceptors []grpc.UnaryServerInterceptor, curr int, info *grpc.UnaryServerInfo, final grpc.UnaryHandler) grpc.UnaryHandler {
	if curr == len(interceptors)-1 {
		return final
	}
	return func(ctx context.Context, req any) (any, error) {
		return interceptors[curr+1](ctx, req, info, chainedHandler(interceptors, curr+1, info, final))
	}
}
