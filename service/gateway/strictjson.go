package gateway

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"google.golang.org/protobuf/proto"
)

// strictJSONPb is the gateway's marshaler: runtime.JSONPb, except that a
// request body must be exactly one JSON value. grpc-gateway decodes bodies
// with a json.Decoder, which stops after the first value, so
// `{"city":"x"} garbage` or `{"city":"x"}{"notes":"y"}` would update city
// and drop the rest silently; a body that is not what the caller meant to
// send is refused with INVALID_ARGUMENT, and nothing is written.
type strictJSONPb struct {
	*runtime.JSONPb
}

// NewDecoder implements runtime.Marshaler.
func (m strictJSONPb) NewDecoder(r io.Reader) runtime.Decoder {
	return runtime.DecoderFunc(func(v any) error {
		body, err := io.ReadAll(r)
		if err != nil {
			return fmt.Errorf("request body could not be read: %w", err)
		}
		if len(bytes.TrimSpace(body)) == 0 {
			return io.EOF // no body: the generated handlers take it as "no fields", as before
		}
		if !json.Valid(body) {
			return errors.New("request body is not one well-formed JSON value")
		}
		if msg := protoTarget(v); msg != nil {
			// The body is one JSON value (checked above), which is all
			// JSONPb's decoder would extract with a json.Decoder pass of
			// its own before handing the same bytes to protojson.
			return m.UnmarshalOptions.Unmarshal(body, msg)
		}
		return m.JSONPb.NewDecoder(bytes.NewReader(body)).Decode(v)
	})
}

// protoTarget returns the message v decodes into when v is a message or a
// pointer to a message pointer (what the generated handlers pass for a body
// field, `&protoReq.User`), allocating the message as JSONPb would; nil
// for any other target, which JSONPb's own decoder handles.
func protoTarget(v any) proto.Message {
	if msg, ok := v.(proto.Message); ok {
		return msg
	}
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Pointer || rv.IsNil() {
		return nil
	}
	elem := rv.Elem()
	if elem.Kind() != reflect.Pointer || !elem.Type().Implements(reflect.TypeFor[proto.Message]()) {
		return nil
	}
	if elem.IsNil() {
		elem.Set(reflect.New(elem.Type().Elem()))
	}
	msg, _ := elem.Interface().(proto.Message)
	return msg
}
