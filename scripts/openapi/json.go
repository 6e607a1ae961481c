package main

import "fmt"

// object is a JSON object as encoding/json decodes it.
type object = map[string]any

// list is a JSON array as encoding/json decodes it.
type list = []any

// shapeError says where a document is not shaped as protoc-gen-openapiv2
// writes it: the generator's output changing shape must stop the build,
// not silently leave a wrong document.
type shapeError struct{ path []string }

func (e *shapeError) Error() string {
	return fmt.Sprintf("unexpected document shape: no object at %v", e.path)
}

// at walks keys down nested objects.
func at(o object, keys ...string) (object, error) {
	cur := o
	for i, k := range keys {
		next, ok := cur[k].(object)
		if !ok {
			return nil, &shapeError{path: keys[:i+1]}
		}
		cur = next
	}
	return cur, nil
}
