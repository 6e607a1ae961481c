package procoretest

import (
	"encoding/json"
	"net/http"
	"sync"
)

// Request is one request the emulator received, as recorded for tests to
// assert exactly what a client sent upstream. It is also the element of the
// JSON array served by GET /_emulator/requests. Bearer tokens and client
// secrets are never recorded; /oauth/token requests are logged without body.
type Request struct {
	Method      string `json:"method"`
	Path        string `json:"path"`
	Query       string `json:"query"`
	CompanyID   string `json:"company_id"`
	ContentType string `json:"content_type"`
	// Body is the exact body when it is valid JSON.
	Body json.RawMessage `json:"body,omitempty"`
	// RawBody is the exact body for anything but multipart.
	RawBody string `json:"raw_body,omitempty"`
	// Form is the parsed multipart body.
	Form *RequestForm `json:"form,omitempty"`
	// ClientID is the OAuth client the bearer token belongs to.
	ClientID    string `json:"client_id"`
	Traceparent string `json:"traceparent,omitempty"`
	// Status is the status answered; 0 when the connection was dropped.
	Status    int    `json:"status"`
	RequestID string `json:"request_id"`
	// Applied lists, for a sync request, the ids of the users it wrote
	// (updated or created), in the order of its items, even when a fault
	// then lost or replaced the answer; nil for every other request. A
	// test joins it with what the client reported.
	Applied []int64 `json:"applied,omitempty"`
}

// RequestForm is a multipart body: form fields (name to value, the last
// value when repeated) and file parts without their bytes.
type RequestForm struct {
	Fields map[string]string `json:"fields"`
	Files  []RequestFile     `json:"files"`
}

// RequestFile describes one uploaded file part.
type RequestFile struct {
	Field       string `json:"field"`
	Filename    string `json:"filename"`
	ContentType string `json:"content_type"`
	Size        int64  `json:"size"`
}

// requestLog is a bounded ring keeping the newest entries, O(1) per add.
type requestLog struct {
	mu      sync.Mutex
	max     int
	entries []Request // ring storage, len <= max
	next    int       // index of the oldest entry once the ring is full
}

func (l *requestLog) add(r Request) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.entries) < l.max {
		l.entries = append(l.entries, r)
		return
	}
	l.entries[l.next] = r
	l.next = (l.next + 1) % l.max
}

func (e *Emulator) record(r Request) { e.log.add(r) }

// Requests returns a copy of the received requests, oldest first.
func (e *Emulator) Requests() []Request {
	e.log.mu.Lock()
	defer e.log.mu.Unlock()
	out := make([]Request, 0, len(e.log.entries))
	out = append(out, e.log.entries[e.log.next:]...)
	return append(out, e.log.entries[:e.log.next]...)
}

// ResetRequests clears the request log.
func (e *Emulator) ResetRequests() {
	e.log.mu.Lock()
	e.log.entries, e.log.next = nil, 0
	e.log.mu.Unlock()
}

// handleControl serves /_emulator/: the request log and uploaded avatars.
// Control requests are not faulted, rate limited nor logged.
func (e *Emulator) handleControl(w http.ResponseWriter, r *http.Request) {
	switch {
	case r.URL.Path == "/_emulator/requests" && r.Method == http.MethodGet:
		reqs := e.Requests()
		if reqs == nil {
			reqs = []Request{}
		}
		b, err := json.Marshal(reqs)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		jsonReply(http.StatusOK, b).write(w)
	case r.URL.Path == "/_emulator/requests" && r.Method == http.MethodDelete:
		e.ResetRequests()
		w.WriteHeader(http.StatusNoContent)
	case len(r.URL.Path) > len(avatarPathPrefix) && r.URL.Path[:len(avatarPathPrefix)] == avatarPathPrefix && r.Method == http.MethodGet:
		e.serveAvatar(w, r)
	default:
		notFoundReply().write(w)
	}
}
