package procoretest

import (
	"fmt"
	"net/http"
	"time"
)

// Faults are probabilistic failures applied to API requests (not to
// /oauth/token nor /_emulator), so a client's retry and timeout logic can be
// exercised against a flaky upstream. The zero value injects nothing.
type Faults struct {
	// Latency is added before answering every API request.
	Latency time.Duration
	// ErrorRate is the share (0..1) of API requests answered 5xx without
	// being processed.
	ErrorRate float64
	// ErrorStatus fixes the 5xx status; 0 picks at random among 500, 502,
	// 503 (with Retry-After) and 504, each with its own body shape.
	ErrorStatus int
	// DropRate is the share of API requests whose connection is closed with
	// no response, before the request body is read (nothing applied).
	DropRate float64
	// MalformedRate is the share of API requests processed normally but
	// answered 200 with a truncated JSON body.
	MalformedRate float64
}

func (f Faults) validate() error {
	for name, r := range map[string]float64{"error rate": f.ErrorRate, "drop rate": f.DropRate, "malformed rate": f.MalformedRate} {
		if r < 0 || r > 1 {
			return fmt.Errorf("faults: %s %v not in [0,1]", name, r)
		}
	}
	if f.Latency < 0 {
		return fmt.Errorf("faults: negative latency %v", f.Latency)
	}
	if f.ErrorStatus != 0 && (f.ErrorStatus < 100 || f.ErrorStatus > 599) {
		return fmt.Errorf("faults: error status %d out of range", f.ErrorStatus)
	}
	return nil
}

// FaultKind names what a scripted Fault does.
type FaultKind int

const (
	// FaultKindStatus answers with a fixed status, headers and body without
	// processing the request.
	FaultKindStatus FaultKind = iota + 1
	// FaultKindDropBeforeBody closes the connection before reading the
	// request body: the client can know the update was not applied.
	FaultKindDropBeforeBody
	// FaultKindDropAfterApply processes the request (a valid update IS
	// applied) and then closes the connection without answering: the
	// outcome is unknown to the client.
	FaultKindDropAfterApply
	// FaultKindDelay waits, then processes the request normally.
	FaultKindDelay
	// FaultKindMalformed processes the request normally and answers 200
	// with the first half of the JSON body that would have been sent.
	FaultKindMalformed
	// FaultKindApplyThenStatus processes the request (a valid update IS
	// applied) and then answers Status instead of the real answer: a 500
	// from a failing after-commit hook, a proxy's 502 that lost the answer.
	FaultKindApplyThenStatus
	// FaultKindStall reads the request, waits Delay whether or not the
	// client is still there, then processes it (a valid update IS applied)
	// and answers if it can: a request queued at Procore that applies after
	// the client gave up.
	FaultKindStall
	// FaultKindApplyHalfThenStatus processes the first half (rounded down)
	// of a sync request's items, applying the valid ones, leaves the rest
	// untouched, and answers Status: a chunk Procore stopped working on
	// midway. A request of one item (any single update) applies nothing.
	FaultKindApplyHalfThenStatus
)

// Fault is one scripted, deterministic failure for Emulator.Script. Build it
// with the Fault* constructors.
type Fault struct {
	Kind        FaultKind
	Status      int
	ContentType string
	Body        string
	Header      http.Header
	Delay       time.Duration
}

// FaultStatus answers the next request with status, content type, body and
// extra headers (e.g. 503 with Retry-After, 429 plain text, 502 HTML, 500
// empty, or any of the contract's error body shapes).
func FaultStatus(code int, contentType, body string, header http.Header) Fault {
	return Fault{Kind: FaultKindStatus, Status: code, ContentType: contentType, Body: body, Header: header.Clone()}
}

// FaultDropBeforeBody closes the connection before the body is read.
func FaultDropBeforeBody() Fault { return Fault{Kind: FaultKindDropBeforeBody} }

// FaultDropAfterApply applies the request, then closes the connection.
func FaultDropAfterApply() Fault { return Fault{Kind: FaultKindDropAfterApply} }

// FaultDelay delays the next request by d, then serves it normally.
func FaultDelay(d time.Duration) Fault { return Fault{Kind: FaultKindDelay, Delay: d} }

// FaultMalformed serves the next request but truncates its answer to a 200
// with invalid JSON.
func FaultMalformed() Fault { return Fault{Kind: FaultKindMalformed} }

// FaultApplyThenStatus applies the next request (for sync, every item of
// it), then answers status with the body shape errorReply gives it, as if
// the real answer were lost.
func FaultApplyThenStatus(status int) Fault {
	return Fault{Kind: FaultKindApplyThenStatus, Status: status}
}

// FaultApplyHalfThenStatus processes the first half (rounded down) of the
// next request's sync items, then answers status with the body shape
// errorReply gives it: the outcome of every item is unknown to the client,
// and only a read-back tells the applied half from the rest. On a single
// update it applies nothing (half of one item is none).
func FaultApplyHalfThenStatus(status int) Fault {
	return Fault{Kind: FaultKindApplyHalfThenStatus, Status: status}
}

// FaultStall reads the next request, waits d even if the client gives up,
// then applies it. Emulator.WaitStalls waits until every stalled request
// has been applied (or refused), so a test can see the late write without
// sleeping.
func FaultStall(d time.Duration) Fault { return Fault{Kind: FaultKindStall, Delay: d} }

// FaultUnavailableThenRetry is a 503 with Retry-After: 0, which Procore sends
// before processing anything: the request was not applied and a client
// may send it again at once.
func FaultUnavailableThenRetry() Fault {
	return FaultStatus(http.StatusServiceUnavailable, "text/plain", "Service Unavailable", http.Header{"Retry-After": {"0"}})
}

// errorReply builds the answer for a random or fixed 5xx fault. Each status
// has a body shape seen in the wild, so clients meet HTML, empty and JSON.
func errorReply(status int) *reply {
	switch status {
	case http.StatusInternalServerError:
		return &reply{status: status}
	case http.StatusBadGateway:
		return htmlReply(status, "<html><body><h1>502 Bad Gateway</h1></body></html>\n")
	case http.StatusServiceUnavailable:
		r := textReply(status, "Service Unavailable")
		r.header().Set("Retry-After", "1")
		return r
	case http.StatusGatewayTimeout:
		return htmlReply(status, "<html><body><h1>504 Gateway Time-out</h1></body></html>\n")
	}
	return jsonReply(status, []byte(`{"error":{"code":"upstream_error","message":"`+http.StatusText(status)+`","details":[]}}`))
}

func randomErrorStatuses() [4]int { return [...]int{500, 502, 503, 504} }
