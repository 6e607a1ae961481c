package server

import (
	"fmt"

	"google.golang.org/grpc"
	"google.golang.org/grpc/reflection"
	v1reflectiongrpc "google.golang.org/grpc/reflection/grpc_reflection_v1"
	v1alphareflectiongrpc "google.golang.org/grpc/reflection/grpc_reflection_v1alpha"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/descriptorpb"

	"github.com/procore-directory/procore-directory/gen/descriptor"
)

// registerReflection serves gRPC server reflection (v1 and v1alpha) from the
// generated descriptor set, which keeps the proto's comments: the compiled-in
// descriptors have none, and grpcurl describe should show the API's docs.
// If the set cannot be read, reflection falls back to the compiled-in ones.
func registerReflection(g *grpc.Server) error {
	files, err := descriptorFiles()
	if err != nil {
		reflection.Register(g)
		return err
	}
	opts := reflection.ServerOptions{Services: g, DescriptorResolver: files, ExtensionResolver: protoregistry.GlobalTypes}
	v1reflectiongrpc.RegisterServerReflectionServer(g, reflection.NewServerV1(opts))
	v1alphareflectiongrpc.RegisterServerReflectionServer(g, reflection.NewServer(opts))
	return nil
}

// descriptorFiles parses the embedded FileDescriptorSet.
func descriptorFiles() (*protoregistry.Files, error) {
	var set descriptorpb.FileDescriptorSet
	if err := proto.Unmarshal(descriptor.FileDescriptorSet, &set); err != nil {
		return nil, fmt.Errorf("descriptor set: %w", err)
	}
	files, err := protodesc.NewFiles(&set)
	if err != nil {
		return nil, fmt.Errorf("descriptor set: %w", err)
	}
	return files, nil
}
