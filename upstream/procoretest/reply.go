package procoretest

import (
	"encoding/json"
	"net/http"
)

// reply is a buffered answer. Handlers build one instead of writing, so the
// emulator can add rate-limit headers, record the status, truncate the body
// (malformed fault) or drop it (drop-after-apply fault) afterwards.
type reply struct {
	status int
	hdr    http.Header
	body   []byte
	flat   *flatError // set on application 400/401/403s, for ErrorBodyFlat
	// applied lists the users a sync request wrote, in input order, for
	// the request log (Request.Applied).
	applied []int64
}

func (r *reply) header() http.Header {
	if r.hdr == nil {
		r.hdr = make(http.Header, 4)
	}
	return r.hdr
}

func jsonReply(status int, body []byte) *reply {
	r := &reply{status: status, body: body}
	r.header().Set("Content-Type", "application/json; charset=utf-8")
	return r
}

func textReply(status int, text string) *reply {
	r := &reply{status: status, body: []byte(text)}
	r.header().Set("Content-Type", "text/plain; charset=utf-8")
	return r
}

func htmlReply(status int, html string) *reply {
	r := &reply{status: status, body: []byte(html)}
	r.header().Set("Content-Type", "text/html; charset=utf-8")
	return r
}

// errorsReply is the Rails `{"errors": ...}` shape, text or field map.
func errorsReply(status int, errs any) *reply {
	b, err := json.Marshal(map[string]any{"errors": errs})
	if err != nil {
		return &reply{status: http.StatusInternalServerError}
	}
	return jsonReply(status, b)
}

func notFoundReply() *reply { return jsonReply(http.StatusNotFound, []byte(`{"errors":"Not Found"}`)) }

func invalidTokenReply(description string) *reply {
	b, _ := json.Marshal(map[string]string{"error": "invalid_token", "error_description": description})
	r := withFlat(jsonReply(http.StatusUnauthorized, b), reasonInvalidToken, description)
	r.header().Set("WWW-Authenticate", `Bearer realm="Doorkeeper", error="invalid_token", error_description=`+string(mustQuote(description)))
	return r
}

func mustQuote(s string) []byte {
	b, _ := json.Marshal(s)
	return b
}

// write sends the reply on w.
func (r *reply) write(w http.ResponseWriter) {
	h := w.Header()
	for k, v := range r.hdr {
		h[k] = v
	}
	status := r.status
	switch {
	case status == 0:
		status = http.StatusOK
	case status < 100 || status > 999: // WriteHeader would panic
		status = http.StatusInternalServerError
	}
	w.WriteHeader(status)
	if len(r.body) > 0 {
		_, _ = w.Write(r.body)
	}
}
