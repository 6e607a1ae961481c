package gateway

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
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
		return m.JSONPb.NewDecoder(bytes.NewReader(body)).Decode(v)
	})
}
