package reflection

import (
	"errors"
	"fmt"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	rpcstatus "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	grpcreflection "google.golang.org/grpc/reflection"
	reflectionv1 "google.golang.org/grpc/reflection/grpc_reflection_v1"
	reflectionv1alpha "google.golang.org/grpc/reflection/grpc_reflection_v1alpha"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/descriptorpb"

	"github.com/procore-directory/procore-directory/gen/descriptor"
)

// ErrDescriptorSet is the kind of error Register returns when the embedded
// descriptor set (or one given with WithDescriptorSet) cannot be read: a
// build defect, so nothing is registered rather than serving a reflection
// that silently lacks the API's comments.
var ErrDescriptorSet = errors.New("reflection: descriptor set")

// ErrUnresolvable is the kind of error Register returns when a file that
// must be resolvable (the standard ones, or one given with WithFiles) is
// not: a client could then not decode what the server sends.
var ErrUnresolvable = errors.New("reflection: file not resolvable")

// standardFiles are the files a client needs beyond our API: the services
// registered beside it and the messages every error carries as details.
// Naming them here also links their Go packages in, which registers them
// in protoregistry.GlobalFiles.
func standardFiles() []protoreflect.FileDescriptor {
	return []protoreflect.FileDescriptor{
		errdetails.File_google_rpc_error_details_proto,
		rpcstatus.File_google_rpc_status_proto,
		healthpb.File_grpc_health_v1_health_proto,
		reflectionv1.File_grpc_reflection_v1_reflection_proto,
		reflectionv1alpha.File_grpc_reflection_v1alpha_reflection_proto,
	}
}

// config is what the options set.
type config struct {
	set   []byte
	files []protoreflect.FileDescriptor
}

// Option configures Register.
type Option func(*config)

// WithDescriptorSet replaces the embedded descriptor set (a serialized
// google.protobuf.FileDescriptorSet), for tests and for servers that serve
// another API.
func WithDescriptorSet(set []byte) Option {
	return func(c *config) { c.set = set }
}

// WithFiles adds files that must be resolvable besides the standard ones,
// for example those of extra error details a server sends. They are served
// after the descriptor set and before the global registry.
func WithFiles(files ...protoreflect.FileDescriptor) Option {
	return func(c *config) { c.files = append(c.files, files...) }
}

// Register serves server reflection, v1 and v1alpha (older clients such as
// some grpcurl and evans builds ask v1alpha), on s.
//
// Names and files resolve from the embedded descriptor set first (it keeps
// the proto's comments, so `grpcurl describe` shows the API's docs), then
// from the standard and extra files, then from protoregistry.GlobalFiles,
// which holds every proto compiled into the binary. Register checks that
// every standard and extra file resolves before it registers anything.
//
// Call it after every other service is registered; it lists the services
// of s when asked, so later ones are listed too.
func Register(s *grpc.Server, opts ...Option) error {
	cfg := config{set: descriptor.FileDescriptorSet}
	for _, o := range opts {
		o(&cfg)
	}
	resolver, err := newResolver(cfg)
	if err != nil {
		return err
	}
	ropts := grpcreflection.ServerOptions{
		Services:           s,
		DescriptorResolver: resolver,
		ExtensionResolver:  protoregistry.GlobalTypes,
	}
	reflectionv1.RegisterServerReflectionServer(s, grpcreflection.NewServerV1(ropts))
	reflectionv1alpha.RegisterServerReflectionServer(s, grpcreflection.NewServer(ropts))
	return nil
}

// newResolver builds the layered resolver and checks that the files a
// client needs resolve through it, with their imports.
func newResolver(cfg config) (layered, error) {
	var set descriptorpb.FileDescriptorSet
	if err := proto.Unmarshal(cfg.set, &set); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrDescriptorSet, err)
	}
	embedded, err := protodesc.NewFiles(&set)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrDescriptorSet, err)
	}
	extra := new(protoregistry.Files)
	required := append(standardFiles(), cfg.files...)
	for _, fd := range required {
		if _, err := extra.FindFileByPath(fd.Path()); err == nil {
			continue // named twice
		}
		if err := extra.RegisterFile(fd); err != nil {
			return nil, fmt.Errorf("%w: %s: %w", ErrUnresolvable, fd.Path(), err)
		}
	}
	resolver := layered{embedded, extra, protoregistry.GlobalFiles}
	for _, fd := range required {
		if err := resolvable(resolver, fd.Path(), map[string]bool{}); err != nil {
			return nil, err
		}
	}
	return resolver, nil
}

// resolvable reports whether path and everything it imports resolve.
func resolvable(r layered, path string, seen map[string]bool) error {
	if seen[path] {
		return nil
	}
	seen[path] = true
	fd, err := r.FindFileByPath(path)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrUnresolvable, err)
	}
	imports := fd.Imports()
	for i := range imports.Len() {
		if err := resolvable(r, imports.Get(i).Path(), seen); err != nil {
			return err
		}
	}
	return nil
}
