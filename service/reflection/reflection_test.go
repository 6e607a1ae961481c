package reflection_test

import (
	"context"
	"errors"
	"net"
	"slices"
	"testing"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	reflectionv1 "google.golang.org/grpc/reflection/grpc_reflection_v1"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/descriptorpb"
	"google.golang.org/protobuf/types/dynamicpb"

	directoryv1 "github.com/procore-directory/procore-directory/gen/procore/directory/v1"
	"github.com/procore-directory/procore-directory/service/reflection"
)

const (
	directoryService = "procore.directory.v1.DirectoryService"
	healthService    = "grpc.health.v1.Health"
)

// failingDirectory answers every read with the kind of error the real
// service sends: INVALID_ARGUMENT with a BadRequest and an ErrorInfo.
type failingDirectory struct {
	directoryv1.UnimplementedDirectoryServiceServer
}

func (failingDirectory) GetCompanyUser(context.Context, *directoryv1.GetCompanyUserRequest) (*directoryv1.CompanyUser, error) {
	st, err := status.New(codes.InvalidArgument, "invalid request").WithDetails(
		&errdetails.BadRequest{FieldViolations: []*errdetails.BadRequest_FieldViolation{{Field: "id", Description: "id must be greater than 0"}}},
		&errdetails.ErrorInfo{Reason: "INVALID_REQUEST", Domain: "procore-directory"},
	)
	if err != nil {
		return nil, err
	}
	return nil, st.Err()
}

// serve starts a loopback server with the health service, the directory
// service and reflection, and returns a client connection to it.
func serve(t *testing.T) *grpc.ClientConn {
	t.Helper()
	s := grpc.NewServer()
	healthpb.RegisterHealthServer(s, health.NewServer())
	directoryv1.RegisterDirectoryServiceServer(s, failingDirectory{})
	if err := reflection.Register(s); err != nil {
		t.Fatalf("Register: %v", err)
	}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = s.Serve(lis) }()
	t.Cleanup(s.Stop)
	conn, err := grpc.NewClient(lis.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	return conn
}

// reflector is a client that knows nothing but what reflection tells it:
// the descriptors it receives go into a fresh registry, never the global one.
type reflector struct {
	t      *testing.T
	stream reflectionv1.ServerReflection_ServerReflectionInfoClient
	protos map[string]*descriptorpb.FileDescriptorProto
	files  *protoregistry.Files
}

func newReflector(t *testing.T, ctx context.Context, conn *grpc.ClientConn) *reflector {
	t.Helper()
	stream, err := reflectionv1.NewServerReflectionClient(conn).ServerReflectionInfo(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = stream.CloseSend() })
	return &reflector{t: t, stream: stream, protos: map[string]*descriptorpb.FileDescriptorProto{}, files: new(protoregistry.Files)}
}

func (r *reflector) ask(req *reflectionv1.ServerReflectionRequest) *reflectionv1.ServerReflectionResponse {
	r.t.Helper()
	if err := r.stream.Send(req); err != nil {
		r.t.Fatal(err)
	}
	resp, err := r.stream.Recv()
	if err != nil {
		r.t.Fatal(err)
	}
	if e := resp.GetErrorResponse(); e != nil {
		r.t.Fatalf("reflection error for %v: %s (code %d)", req.GetMessageRequest(), e.GetErrorMessage(), e.GetErrorCode())
	}
	return resp
}

func (r *reflector) services() []string {
	resp := r.ask(&reflectionv1.ServerReflectionRequest{MessageRequest: &reflectionv1.ServerReflectionRequest_ListServices{}})
	var names []string
	for _, s := range resp.GetListServicesResponse().GetService() {
		names = append(names, s.GetName())
	}
	slices.Sort(names)
	return names
}

// resolve asks for the file defining symbol and rebuilds the registry from
// every file received so far; it fails the test if the server sent a file
// whose imports it did not send.
func (r *reflector) resolve(symbol string) protoreflect.Descriptor {
	r.t.Helper()
	resp := r.ask(&reflectionv1.ServerReflectionRequest{MessageRequest: &reflectionv1.ServerReflectionRequest_FileContainingSymbol{FileContainingSymbol: symbol}})
	for _, b := range resp.GetFileDescriptorResponse().GetFileDescriptorProto() {
		fdp := new(descriptorpb.FileDescriptorProto)
		if err := proto.Unmarshal(b, fdp); err != nil {
			r.t.Fatal(err)
		}
		r.protos[fdp.GetName()] = fdp
	}
	set := &descriptorpb.FileDescriptorSet{}
	for _, fdp := range r.protos {
		set.File = append(set.File, fdp)
	}
	files, err := protodesc.NewFiles(set)
	if err != nil {
		r.t.Fatalf("descriptors of %s do not build: %v", symbol, err)
	}
	r.files = files
	d, err := files.FindDescriptorByName(protoreflect.FullName(symbol))
	if err != nil {
		r.t.Fatalf("%s: %v", symbol, err)
	}
	return d
}

func (r *reflector) message(name string) protoreflect.MessageDescriptor {
	r.t.Helper()
	md, ok := r.resolve(name).(protoreflect.MessageDescriptor)
	if !ok {
		r.t.Fatalf("%s is not a message", name)
	}
	return md
}

func TestReflectionResolvesEveryService(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	r := newReflector(t, ctx, serve(t))

	want := []string{directoryService, healthService, "grpc.reflection.v1.ServerReflection", "grpc.reflection.v1alpha.ServerReflection"}
	slices.Sort(want)
	got := r.services()
	if !slices.Equal(got, want) {
		t.Fatalf("services = %v, want %v", got, want)
	}
	for _, name := range got {
		t.Run(name, func(t *testing.T) {
			r.t = t
			sd, ok := r.resolve(name).(protoreflect.ServiceDescriptor)
			if !ok {
				t.Fatalf("%s is not a service", name)
			}
			methods := sd.Methods()
			if methods.Len() == 0 {
				t.Fatalf("%s has no methods", name)
			}
			for i := range methods.Len() {
				m := methods.Get(i)
				if m.Input().IsPlaceholder() || m.Output().IsPlaceholder() {
					t.Errorf("%s: unresolved input or output", m.FullName())
				}
			}
		})
	}
	r.t = t

	// Every error detail the server sends, and the status that carries them.
	for _, name := range []string{"google.rpc.Status", "google.rpc.BadRequest", "google.rpc.ErrorInfo", "google.rpc.RetryInfo", "google.rpc.QuotaFailure"} {
		r.message(name)
	}

	// The embedded set comes first: our API keeps its comments.
	fdp := r.protos["procore/directory/v1/directory_service.proto"]
	if fdp == nil || len(fdp.GetSourceCodeInfo().GetLocation()) == 0 {
		t.Errorf("directory_service.proto served without source comments")
	}
}

func TestReflectionOnlyClientCallsHealthCheck(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	conn := serve(t)
	r := newReflector(t, ctx, conn)

	check := r.resolve(healthService).(protoreflect.ServiceDescriptor).Methods().ByName("Check")
	if check == nil {
		t.Fatal("Health has no Check method")
	}
	req := dynamicpb.NewMessage(check.Input())
	req.Set(check.Input().Fields().ByName("service"), protoreflect.ValueOfString(""))
	resp := dynamicpb.NewMessage(check.Output())
	if err := conn.Invoke(ctx, "/"+healthService+"/Check", req, resp); err != nil {
		t.Fatalf("Check: %v", err)
	}
	statusField := check.Output().Fields().ByName("status")
	got := statusField.Enum().Values().ByNumber(resp.Get(statusField).Enum())
	if got == nil || got.Name() != "SERVING" {
		t.Errorf("status = %v, want SERVING", got)
	}
}

func TestReflectionOnlyClientDecodesErrorDetails(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	conn := serve(t)
	r := newReflector(t, ctx, conn)

	get := r.resolve(directoryService).(protoreflect.ServiceDescriptor).Methods().ByName("GetCompanyUser")
	req := dynamicpb.NewMessage(get.Input())
	err := conn.Invoke(ctx, "/"+directoryService+"/GetCompanyUser", req, dynamicpb.NewMessage(get.Output()))
	st, ok := status.FromError(err)
	if !ok || st.Code() != codes.InvalidArgument {
		t.Fatalf("GetCompanyUser error = %v, want INVALID_ARGUMENT", err)
	}

	tests := []struct {
		typeName string
		path     []protoreflect.Name // a string field to read, through single messages or first list elements
		want     string
	}{
		{"google.rpc.BadRequest", []protoreflect.Name{"field_violations", "field"}, "id"},
		{"google.rpc.ErrorInfo", []protoreflect.Name{"reason"}, "INVALID_REQUEST"},
		{"google.rpc.ErrorInfo", []protoreflect.Name{"domain"}, "procore-directory"},
	}
	for _, tt := range tests {
		t.Run(tt.typeName+"."+string(tt.path[len(tt.path)-1]), func(t *testing.T) {
			r.t = t
			md := r.message(tt.typeName)
			var found *dynamicpb.Message
			for _, d := range st.Proto().GetDetails() { // raw Any: no global registry involved
				if d.GetTypeUrl() == "type.googleapis.com/"+tt.typeName {
					found = dynamicpb.NewMessage(md)
					if err := proto.Unmarshal(d.GetValue(), found); err != nil {
						t.Fatal(err)
					}
				}
			}
			if found == nil {
				t.Fatalf("no %s in details", tt.typeName)
			}
			var m protoreflect.Message = found
			var v protoreflect.Value
			for i, name := range tt.path {
				fd := m.Descriptor().Fields().ByName(name)
				if fd == nil {
					t.Fatalf("%s has no field %s", m.Descriptor().FullName(), name)
				}
				v = m.Get(fd)
				if i < len(tt.path)-1 {
					if fd.IsList() {
						if v.List().Len() == 0 {
							t.Fatalf("%s is empty", name)
						}
						v = v.List().Get(0)
					}
					m = v.Message()
				}
			}
			if v.String() != tt.want {
				t.Errorf("%v = %q, want %q", tt.path, v.String(), tt.want)
			}
		})
	}
}

func TestRegisterRefusesABadDescriptorSet(t *testing.T) {
	tests := []struct {
		name string
		opt  reflection.Option
		want error
	}{
		{"not a descriptor set", reflection.WithDescriptorSet([]byte("\xff\xff")), reflection.ErrDescriptorSet},
		{"a file whose import is missing", reflection.WithDescriptorSet(mustMarshal(t, &descriptorpb.FileDescriptorSet{File: []*descriptorpb.FileDescriptorProto{{
			Name: proto.String("a.proto"), Dependency: []string{"missing.proto"},
		}}})), reflection.ErrDescriptorSet},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := grpc.NewServer()
			defer s.Stop()
			err := reflection.Register(s, tt.opt)
			if !errors.Is(err, tt.want) {
				t.Fatalf("Register = %v, want %v", err, tt.want)
			}
			if len(s.GetServiceInfo()) != 0 {
				t.Errorf("Register registered services despite the error: %v", s.GetServiceInfo())
			}
		})
	}
}

func mustMarshal(t *testing.T, m proto.Message) []byte {
	t.Helper()
	b, err := proto.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
