package inprocess

import (
	"context"
	"errors"
	"net"
	"strings"
	"testing"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"
	"google.golang.org/grpc/test/bufconn"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/fieldmaskpb"

	directoryv1 "github.com/procore-directory/procore-directory/gen/procore/directory/v1"
	"github.com/procore-directory/procore-directory/service/servicetest"
)

// funcDirectory is a DirectoryService whose UpdateCompanyUser is a function.
type funcDirectory struct {
	directoryv1.UnimplementedDirectoryServiceServer
	update func(context.Context, *directoryv1.UpdateCompanyUserRequest) (*directoryv1.CompanyUser, error)
}

func (f *funcDirectory) UpdateCompanyUser(ctx context.Context, req *directoryv1.UpdateCompanyUserRequest) (*directoryv1.CompanyUser, error) {
	return f.update(ctx, req)
}

// recordingInterceptor appends its name to the "x-chain" header on the way
// in, so a test sees which interceptors ran and in what order.
func recordingInterceptor(name string) grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		if err := grpc.SetHeader(ctx, metadata.Pairs("x-chain", name+":"+info.FullMethod)); err != nil {
			return nil, err
		}
		return handler(ctx, req)
	}
}

// callResult is what a client sees of one call.
type callResult struct {
	code             codes.Code
	message          string
	details          int
	reply            *directoryv1.CompanyUser
	header, trailer  metadata.MD
	peerAddr, authTy string
}

func call(ctx context.Context, conn grpc.ClientConnInterface, req *directoryv1.UpdateCompanyUserRequest) callResult {
	var header, trailer metadata.MD
	var p peer.Peer
	reply, err := directoryv1.NewDirectoryServiceClient(conn).UpdateCompanyUser(ctx, req, grpc.Header(&header), grpc.Trailer(&trailer), grpc.Peer(&p))
	st := status.Convert(err)
	r := callResult{code: st.Code(), message: st.Message(), details: len(st.Details()), reply: reply, header: header, trailer: trailer}
	if p.AuthInfo != nil {
		r.authTy = p.AuthInfo.AuthType()
	}
	if p.Addr != nil {
		r.peerAddr = p.Addr.Network()
	}
	return r
}

// TestInProcessChannelBehavesLikeTheNetwork runs each call twice, through
// a grpc.Server on a bufconn and through the in-process channel, with the
// same interceptors and handler, and compares what the client sees:
// reply, code, message, details, header and trailer metadata.
func TestInProcessChannelBehavesLikeTheNetwork(t *testing.T) {
	user := &directoryv1.CompanyUser{Id: 1001, JobTitle: servicetest.Ptr("PM")}
	req := &directoryv1.UpdateCompanyUserRequest{CompanyId: 8089, Id: 1001, User: &directoryv1.CompanyUser{JobTitle: servicetest.Ptr("PM")},
		UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"job_title"}}}
	notFound, err := status.New(codes.NotFound, "user 1001 not found").WithDetails(&errdetails.ErrorInfo{Reason: "NOT_FOUND", Domain: "procore-directory"})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		handler  func(context.Context, *directoryv1.UpdateCompanyUserRequest) (*directoryv1.CompanyUser, error)
		outgoing metadata.MD
		wantCode codes.Code
	}{
		{name: "reply, header and trailer", handler: func(ctx context.Context, r *directoryv1.UpdateCompanyUserRequest) (*directoryv1.CompanyUser, error) {
			md, _ := metadata.FromIncomingContext(ctx)
			_ = grpc.SetHeader(ctx, metadata.Pairs("x-echo", strings.Join(md.Get("x-in"), ",")))
			_ = grpc.SetTrailer(ctx, metadata.Pairs("x-trailer", r.GetUser().GetJobTitle()))
			return user, nil
		}, outgoing: metadata.Pairs("x-in", "a", "x-in", "b")},
		{name: "status error with details", wantCode: codes.NotFound, handler: func(context.Context, *directoryv1.UpdateCompanyUserRequest) (*directoryv1.CompanyUser, error) {
			return nil, notFound.Err()
		}},
		{name: "plain error is UNKNOWN", wantCode: codes.Unknown, handler: func(context.Context, *directoryv1.UpdateCompanyUserRequest) (*directoryv1.CompanyUser, error) {
			return nil, errors.New("boom")
		}},
		{name: "context error is CANCELLED", wantCode: codes.Canceled, handler: func(context.Context, *directoryv1.UpdateCompanyUserRequest) (*directoryv1.CompanyUser, error) {
			return nil, context.Canceled
		}},
		{name: "deadline error is DEADLINE_EXCEEDED", wantCode: codes.DeadlineExceeded, handler: func(context.Context, *directoryv1.UpdateCompanyUserRequest) (*directoryv1.CompanyUser, error) {
			return nil, context.DeadlineExceeded
		}},
		{name: "panic recovered by the chain", wantCode: codes.Internal, handler: func(context.Context, *directoryv1.UpdateCompanyUserRequest) (*directoryv1.CompanyUser, error) {
			panic("handler bug")
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			impl := &funcDirectory{update: tt.handler}
			chain := []grpc.UnaryServerInterceptor{recoverInterceptor(), recordingInterceptor("first"), recordingInterceptor("second")}

			g := grpc.NewServer(grpc.ChainUnaryInterceptor(chain...))
			directoryv1.RegisterDirectoryServiceServer(g, impl)
			lis := bufconn.Listen(1 << 20)
			go func() { _ = g.Serve(lis) }()
			t.Cleanup(g.Stop)
			conn, err := grpc.NewClient("passthrough:///bufconn",
				grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) { return lis.DialContext(ctx) }),
				grpc.WithTransportCredentials(insecure.NewCredentials()))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { conn.Close() })

			ch := New(chain, nil)
			directoryv1.RegisterDirectoryServiceServer(ch, impl)

			ctx := metadata.NewOutgoingContext(context.Background(), tt.outgoing)
			net, inproc := call(ctx, conn, req), call(ctx, ch, req)
			if inproc.code != tt.wantCode || net.code != tt.wantCode {
				t.Fatalf("codes: in-process %v (%s), network %v (%s), want %v", inproc.code, inproc.message, net.code, net.message, tt.wantCode)
			}
			if inproc.message != net.message || inproc.details != net.details {
				t.Errorf("status: in-process %q with %d details, network %q with %d", inproc.message, inproc.details, net.message, net.details)
			}
			if !proto.Equal(inproc.reply, net.reply) {
				t.Errorf("reply: in-process %v, network %v", inproc.reply, net.reply)
			}
			for _, key := range []string{"x-chain", "x-echo"} {
				if got, want := inproc.header.Get(key), net.header.Get(key); strings.Join(got, "|") != strings.Join(want, "|") {
					t.Errorf("header %s: in-process %q, network %q", key, got, want)
				}
			}
			if got, want := inproc.trailer.Get("x-trailer"), net.trailer.Get("x-trailer"); strings.Join(got, "|") != strings.Join(want, "|") {
				t.Errorf("trailer: in-process %q, network %q", got, want)
			}
			if inproc.authTy != "in-process" || inproc.peerAddr != "inprocess" {
				t.Errorf("in-process peer %q/%q", inproc.peerAddr, inproc.authTy)
			}
		})
	}
}

// recoverInterceptor turns a panic into INTERNAL, as NewServer's chain does.
func recoverInterceptor() grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (resp any, err error) {
		defer func() {
			if p := recover(); p != nil {
				err = status.Error(codes.Internal, "internal error")
			}
		}()
		return handler(ctx, req)
	}
}

// TestInProcessChannelCopiesMessages: the handler gets its own request and
// the caller its own reply, as over the network.
func TestInProcessChannelCopiesMessages(t *testing.T) {
	kept := &directoryv1.CompanyUser{Id: 1001, JobTitle: servicetest.Ptr("PM")}
	ch := New(nil, nil)
	directoryv1.RegisterDirectoryServiceServer(ch, &funcDirectory{update: func(_ context.Context, r *directoryv1.UpdateCompanyUserRequest) (*directoryv1.CompanyUser, error) {
		r.User.JobTitle = servicetest.Ptr("changed by the handler")
		return kept, nil
	}})
	req := &directoryv1.UpdateCompanyUserRequest{CompanyId: 8089, Id: 1001, User: &directoryv1.CompanyUser{JobTitle: servicetest.Ptr("PM")}}
	reply, err := directoryv1.NewDirectoryServiceClient(ch).UpdateCompanyUser(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	if req.GetUser().GetJobTitle() != "PM" {
		t.Errorf("the handler changed the caller's request: %q", req.GetUser().GetJobTitle())
	}
	reply.JobTitle = servicetest.Ptr("changed by the caller")
	if kept.GetJobTitle() != "PM" {
		t.Errorf("the caller changed the handler's reply: %q", kept.GetJobTitle())
	}
}

// TestInProcessChannelRefuses: unknown methods and streams are
// UNIMPLEMENTED, as an unknown method is over the network.
func TestInProcessChannelRefuses(t *testing.T) {
	ch := New(nil, nil)
	err := ch.Invoke(context.Background(), "/procore.directory.v1.DirectoryService/Nope", &directoryv1.GetCompanyUserRequest{}, &directoryv1.CompanyUser{})
	if status.Code(err) != codes.Unimplemented {
		t.Errorf("unknown method: %v", err)
	}
	if _, err := ch.NewStream(context.Background(), &grpc.StreamDesc{}, "/grpc.health.v1.Health/Watch"); status.Code(err) != codes.Unimplemented {
		t.Errorf("stream: %v", err)
	}
}

// TestInProcessChannelStop: a graceful stop waits for the call in flight,
// and refuses new calls with UNAVAILABLE; when the stop's context ends
// first, the calls in flight are cancelled.
func TestInProcessChannelStop(t *testing.T) {
	req := &directoryv1.UpdateCompanyUserRequest{CompanyId: 8089, Id: 1001}
	t.Run("graceful", func(t *testing.T) {
		entered, release := make(chan struct{}), make(chan struct{})
		ch := New(nil, nil)
		directoryv1.RegisterDirectoryServiceServer(ch, &funcDirectory{update: func(context.Context, *directoryv1.UpdateCompanyUserRequest) (*directoryv1.CompanyUser, error) {
			close(entered)
			<-release
			return &directoryv1.CompanyUser{Id: 1001}, nil
		}})
		callDone := make(chan error, 1)
		go func() {
			_, err := directoryv1.NewDirectoryServiceClient(ch).UpdateCompanyUser(context.Background(), req)
			callDone <- err
		}()
		<-entered
		stopped := make(chan bool, 1)
		go func() { stopped <- ch.Stop(context.Background()) }()
		select {
		case <-stopped:
			t.Fatal("stop returned with a call in flight")
		case err := <-callDone:
			t.Fatalf("call ended before it was released: %v", err)
		default:
		}
		close(release)
		if err := <-callDone; err != nil {
			t.Fatalf("call in flight: %v", err)
		}
		if !<-stopped {
			t.Error("stop reports cancelled calls")
		}
		_, err := directoryv1.NewDirectoryServiceClient(ch).UpdateCompanyUser(context.Background(), req)
		if status.Code(err) != codes.Unavailable {
			t.Errorf("call after stop: %v, want UNAVAILABLE", err)
		}
	})
	t.Run("timed out", func(t *testing.T) {
		entered := make(chan struct{})
		ch := New(nil, nil)
		directoryv1.RegisterDirectoryServiceServer(ch, &funcDirectory{update: func(ctx context.Context, _ *directoryv1.UpdateCompanyUserRequest) (*directoryv1.CompanyUser, error) {
			close(entered)
			<-ctx.Done()
			return nil, ctx.Err()
		}})
		callDone := make(chan error, 1)
		go func() {
			_, err := directoryv1.NewDirectoryServiceClient(ch).UpdateCompanyUser(context.Background(), req)
			callDone <- err
		}()
		<-entered
		expired, cancel := context.WithCancel(context.Background())
		cancel()
		if ch.Stop(expired) {
			t.Error("stop reports a graceful end, want cancelled calls")
		}
		if err := <-callDone; status.Code(err) != codes.Canceled {
			t.Errorf("call in flight: %v, want CANCELLED", err)
		}
	})
}
