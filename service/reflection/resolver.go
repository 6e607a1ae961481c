package reflection

import (
	"errors"
	"fmt"

	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
)

// layered resolves a file or a name from the first registry that knows it.
//
// Order matters: the embedded descriptor set comes first because it keeps
// the proto's source comments (the compiled-in descriptors have none), and
// a file found there has its imports resolved there too, so the answer is
// consistent; the registries after it fill in what the set does not hold.
type layered []protodesc.Resolver

var _ protodesc.Resolver = layered(nil)

// FindFileByPath returns the first registry's file of that path.
func (l layered) FindFileByPath(path string) (protoreflect.FileDescriptor, error) {
	for _, r := range l {
		fd, err := r.FindFileByPath(path)
		if err == nil {
			return fd, nil
		}
		if !errors.Is(err, protoregistry.NotFound) {
			return nil, fmt.Errorf("reflection: file %q: %w", path, err)
		}
	}
	return nil, fmt.Errorf("reflection: file %q: %w", path, protoregistry.NotFound)
}

// FindDescriptorByName returns the first registry's descriptor of that
// full name.
func (l layered) FindDescriptorByName(name protoreflect.FullName) (protoreflect.Descriptor, error) {
	for _, r := range l {
		d, err := r.FindDescriptorByName(name)
		if err == nil {
			return d, nil
		}
		if !errors.Is(err, protoregistry.NotFound) {
			return nil, fmt.Errorf("reflection: symbol %q: %w", name, err)
		}
	}
	return nil, fmt.Errorf("reflection: symbol %q: %w", name, protoregistry.NotFound)
}
