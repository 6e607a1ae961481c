package upstream

import "github.com/go-json-experiment/json/jsontext"

// appendJSONString appends s as a JSON string literal, quoted by jsontext
// into the caller's buffer (no reflection, no allocation): only what JSON
// requires is escaped, and invalid UTF-8 becomes U+FFFD, which Procore
// reads as it would read the escaped form.
func appendJSONString(dst []byte, s string) []byte {
	// The only error reports that invalid UTF-8 was replaced; the output
	// is complete and valid either way.
	dst, _ = jsontext.AppendQuote(dst, s)
	return dst
}
