package audit

import "time"

// Outcomes of a write, as an Event's outcome says.
const (
	// OutcomeApplied: Procore applied the write (its answer, or a
	// read-back that found every sent field as sent).
	OutcomeApplied = "applied"
	// OutcomeNotApplied: something was sent and Procore certainly did not
	// apply it (a definite refusal, or a read-back that found a field
	// different).
	OutcomeNotApplied = "not_applied"
	// OutcomeUnknown: something was sent and nobody knows yet whether it
	// was applied. A later read-back that settles it writes a second event.
	OutcomeUnknown = "unknown"
	// OutcomeRefused: nothing was sent to Procore.
	OutcomeRefused = "refused"
)

// Kinds of event, as an Event's event key says.
const (
	// KindUpdate is the event of a write's outcome: exactly one final
	// one per write (an unknown outcome settled later writes a second).
	KindUpdate = "update"
	// KindSending is the write-ahead record of a request about to leave
	// for Procore (--audit-required): written to every sink before it is
	// sent, with the outcome unknown and no code yet. The update event
	// with the same call_id (and user_id) is its outcome; a sending record
	// without one is a write whose outcome was never recorded (the sink or
	// the replica died meanwhile).
	KindSending = "sending"
)

// Event is one write outcome. Its JSON keys are the trail's schema and
// never change; every key is always present (empty when unknown), so that
// a reader of the trail never has to tell a missing key from an empty one.
// It names fields, never their values.
type Event struct {
	// Time is RFC 3339 in UTC (the Recorder sets it).
	Time      time.Time `json:"time"`
	Event     string    `json:"event"`
	Caller    string    `json:"caller"`
	CompanyID int64     `json:"company_id"`
	UserID    int64     `json:"user_id"`
	// Fields are the sorted names of the fields sent to Procore ([] not
	// null when none).
	Fields            []string `json:"fields"`
	Outcome           string   `json:"outcome"`
	Code              string   `json:"code"`
	Reason            string   `json:"reason"`
	RequestID         string   `json:"request_id"`
	CallID            string   `json:"call_id"`
	UpstreamStatus    int      `json:"upstream_status"`
	UpstreamRequestID string   `json:"upstream_request_id"`
	TraceID           string   `json:"trace_id"`
	Operation         string   `json:"operation"`
	Replica           string   `json:"replica"`
}
