package upstream

import (
	"bytes"
	"errors"
	"io"
	"strings"

	"github.com/go-json-experiment/json/jsontext"
)

// redactBody is an error body fit to hand back to the caller who caused
// it: the text redacted as Error.Message is (the token, e-mail-like and
// phone-like text), in valid UTF-8. A JSON body keeps its shape, so a
// client of Procore can still read it: every string (object names too) is
// redacted on its own, numbers and structure are kept in their order. Any
// other body (plain text, HTML) is redacted as text. A body cut at the
// response cap is nil: half a body is not Procore's answer.
func redactBody(body []byte, truncated bool, token string) []byte {
	if truncated || len(body) == 0 {
		return nil
	}
	if out, ok := redactJSON(body, token); ok {
		return out
	}
	return []byte(redact(strings.ToValidUTF8(string(body), "\uFFFD"), token))
}

// redactJSON rewrites a JSON body token by token, each string redacted;
// ok is false when body is not one valid JSON value.
func redactJSON(body []byte, token string) (out []byte, ok bool) {
	dec := jsontext.NewDecoder(bytes.NewReader(body), jsontext.AllowDuplicateNames(true))
	var buf bytes.Buffer
	enc := jsontext.NewEncoder(&buf, jsontext.AllowDuplicateNames(true))
	for {
		tok, err := dec.ReadToken()
		if errors.Is(err, io.EOF) {
			return bytes.TrimRight(buf.Bytes(), "\n"), dec.StackDepth() == 0 && buf.Len() > 0
		}
		if err != nil {
			return nil, false
		}
		if tok.Kind() == '"' {
			tok = jsontext.String(redact(tok.String(), token))
		}
		if err := enc.WriteToken(tok); err != nil {
			return nil, false
		}
	}
}
