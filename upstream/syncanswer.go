package upstream

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
)

// SyncItemStatus is what Procore's answer says of one sync item.
type SyncItemStatus uint8

const (
	// SyncApplied: the answer holds the user among its entities, and not
	// among its errors. SyncItemResult.User is the user as Procore
	// answered.
	SyncApplied SyncItemStatus = iota + 1
	// SyncFailed: the answer holds the item among its errors, and not
	// among its entities: Procore refused it and applied nothing of it.
	SyncFailed
	// SyncMissing: the answer holds the user in neither list, or in both.
	// Whether the item was applied is unknown, as after
	// KindOutcomeUnknown: read the user back before sending it again.
	SyncMissing
)

// String names the status.
func (s SyncItemStatus) String() string {
	switch s {
	case SyncApplied:
		return "applied"
	case SyncFailed:
		return "failed"
	case SyncMissing:
		return "missing"
	}
	return "SyncItemStatus(" + strconv.Itoa(int(s)) + ")"
}

// SyncResult is Procore's answer to a sync, matched to its items by the
// echoed id (the answer carries no index, and its order is not
// documented).
type SyncResult struct {
	// Items are the outcomes, one per item and in the items' order.
	Items []SyncItemResult
	// Unmatched counts the answer's entries that matched no item (an id
	// that was not sent, or none): Procore did something it was not
	// asked for, which the caller should report.
	Unmatched int
}

// SyncItemResult is one item's outcome.
type SyncItemResult struct {
	// UserID is the item's user.
	UserID int64
	// Status says what the answer holds for the item.
	Status SyncItemStatus
	// User is the user as Procore answered (SyncApplied only).
	User *User
	// FieldErrors are Procore's complaints about the item's fields
	// (SyncFailed), sorted by field, e-mail-like and phone-like text and
	// the token redacted, as Error.FieldErrors.
	FieldErrors []FieldError
	// Message is Procore's complaint that names no field, redacted.
	Message string
	// NotFound says that Procore has no user with the item's id (an error
	// on the id field that says "not found").
	NotFound bool
}

// syncAnswer is a decoded sync answer, not yet matched to the items.
type syncAnswer struct {
	entities []*User
	failures []syncFailure
	// unmatched counts the entries that could not be read with an id.
	unmatched int
}

// syncFailure is one entry of the answer's errors.
type syncFailure struct {
	id      int64
	fields  []FieldError
	message string
}

// decodeSyncAnswer reads {"entities": [users], "errors": [attributes plus
// "errors": {field: [messages]}]}, each entity decoded in place as a user
// is. An entry without an id counts as unmatched, so the items it may
// stand for stay SyncMissing; a body that is not such an object, or an
// entity that is not a user, is an error (the outcome unknown).
func decodeSyncAnswer(body []byte, token string) (*syncAnswer, error) {
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) == 0 || trimmed[0] != '{' {
		return nil, errors.New("decode sync answer: body is not a JSON object")
	}
	var w struct {
		Entities []jsonUser       `json:"entities"`
		Errors   []jsontext.Value `json:"errors"`
	}
	if err := json.Unmarshal(trimmed, &w, userJSONOptions()); err != nil {
		return nil, fmt.Errorf("decode sync answer: %w", decodeError(err))
	}
	s := &syncAnswer{entities: make([]*User, 0, len(w.Entities)), failures: make([]syncFailure, 0, len(w.Errors))}
	for k := range w.Entities {
		if w.Entities[k].ID.v == nil {
			s.unmatched++
			continue
		}
		s.entities = append(s.entities, w.Entities[k].user())
	}
	for _, raw := range w.Errors {
		f, ok := decodeSyncFailure(raw, token)
		if !ok {
			s.unmatched++
			continue
		}
		s.failures = append(s.failures, f)
	}
	return s, nil
}

// decodeSyncFailure reads one errors entry: its id and its "errors"
// member, parsed as an error body is.
func decodeSyncFailure(raw []byte, token string) (syncFailure, bool) {
	var e struct {
		ID     flexibleInt    `json:"id"`
		Errors jsontext.Value `json:"errors"`
	}
	if err := json.Unmarshal(raw, &e, userJSONOptions()); err != nil || e.ID.v == nil {
		return syncFailure{}, false
	}
	f := syncFailure{id: *e.ID.v}
	if len(e.Errors) > 0 {
		wrapped := make([]byte, 0, len(e.Errors)+len(`{"errors":}`))
		wrapped = append(append(append(wrapped, `{"errors":`...), e.Errors...), '}')
		d := parseErrorBody(wrapped)
		f.fields = redactFields(d.fields, token)
		if len(d.fields) == 0 {
			f.message = redact(d.message, token)
		}
	}
	return f, true
}

// matchSync matches the answer to the items by id. An item whose user is
// among the entities only is applied, among the errors only is failed,
// and otherwise missing; an entry naming no item counts as unmatched.
func matchSync(items []SyncItem, a *syncAnswer) SyncResult {
	index := make(map[int64]int, len(items))
	for i, it := range items {
		index[it.userID] = i
	}
	res := SyncResult{Items: make([]SyncItemResult, len(items)), Unmatched: a.unmatched}
	item := func(id int64) (int, bool) {
		i, ok := index[id]
		if !ok {
			res.Unmatched++
		}
		return i, ok
	}
	entity := make([]*User, len(items))
	failure := make([]*syncFailure, len(items))
	for _, u := range a.entities {
		if i, ok := item(u.ID); ok && entity[i] == nil {
			entity[i] = u
		}
	}
	for k := range a.failures {
		if i, ok := item(a.failures[k].id); ok && failure[i] == nil {
			failure[i] = &a.failures[k]
		}
	}
	for i, it := range items {
		r := &res.Items[i]
		r.UserID = it.userID
		switch e, f := entity[i], failure[i]; {
		case e != nil && f == nil:
			r.Status, r.User = SyncApplied, e
		case f != nil && e == nil:
			r.Status, r.FieldErrors, r.Message = SyncFailed, f.fields, f.message
			r.NotFound = notFound(f.fields)
		default:
			r.Status = SyncMissing
		}
	}
	return res
}

// notFound reports an error on the id field saying "not found", as
// Procore's documented example has it ("Entity with this ID not found").
func notFound(fields []FieldError) bool {
	for _, fe := range fields {
		if fe.Field != "id" {
			continue
		}
		for _, m := range fe.Messages {
			if strings.Contains(strings.ToLower(m), "not found") {
				return true
			}
		}
	}
	return false
}
