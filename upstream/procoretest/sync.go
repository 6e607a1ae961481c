package procoretest

import (
	"bytes"
	"encoding/json"
	"errors"
	"maps"
	"net/http"
	"slices"
	"strconv"
)

// syncForbiddenText is the 403 of a sync the credential may not run: Procore
// publishes "Requires Directory Admin permissions" and no body. (modelled)
const syncForbiddenText = "You do not have permission to sync company users"

// syncRefusedKeys are the single update's attributes a sync item cannot
// carry: add_to_new_projects is absent from the published sync item, and an
// avatar file cannot travel inside updates[] (CONTRACT.md). Each is an item
// error rather than silently dropped, so a client that sends one learns it.
// (modelled)
var syncRefusedKeys = [...]string{"add_to_new_projects", "avatar"}

// syncResult is the answer being built: rendered entities and error entries
// in input order, and the users written.
type syncResult struct {
	entities, errors [][]byte
	applied          []int64
}

// sync is PATCH .../users/sync once the company and the app's access were
// checked: the Directory Admin rule for the whole request (403), the body
// (400: malformed, no updates, too many items), then each item in order,
// matched by id or origin_id, validated exactly as the single update
// validates its fields, and applied or reported in errors. half processes
// only the first half of the items (FaultApplyHalfThenStatus).
func (e *Emulator) sync(rt route, client *OAuthClient, contentType string, body []byte, half bool) *reply {
	if e.syncMode() == SyncForbidden || !client.DirectoryAdmin {
		return withFlat(errorsReply(http.StatusForbidden, syncForbiddenText), reasonDirectoryAdminRequired, syncForbiddenText)
	}
	items, bad := decodeSyncBody(contentType, body, e.cfg.syncMaxItems)
	if bad != nil {
		return bad
	}
	if half {
		items = items[:len(items)/2]
	}
	var res syncResult
	e.mu.Lock()
	c := e.dir.companies[rt.companyID]
	if c == nil {
		e.mu.Unlock()
		return notFoundReply()
	}
	for _, item := range items {
		u, errs := e.syncItem(c, item)
		if len(errs) > 0 {
			res.errors = append(res.errors, syncErrorEntry(item, errs))
			continue
		}
		res.applied = append(res.applied, u.id)
		res.entities = append(res.entities, e.fields.renderUser(make([]byte, 0, 1536), c, u, viewShow, e.cfg.responseShape))
	}
	e.mu.Unlock()
	return e.syncReply(res)
}

// decodeSyncBody reads {"updates": [{...}, ...]}. Only JSON is accepted:
// the published multipart form has no way to carry an array of items.
// (modelled)
func decodeSyncBody(contentType string, body []byte, maxItems int) ([]map[string]json.RawMessage, *reply) {
	missing := func() *reply {
		return withFlat(errorsReply(http.StatusBadRequest, map[string][]string{"updates": {"is missing"}}), reasonMissingParameter, "updates is missing", "updates")
	}
	notArray := func() *reply {
		return withFlat(errorsReply(http.StatusBadRequest, map[string][]string{"updates": {"must be an array of objects"}}), reasonInvalidUpdates, "updates must be an array of objects", "updates")
	}
	if kind, _ := classify(contentType); kind != bodyJSON || len(bytes.TrimSpace(body)) == 0 {
		return nil, missing()
	}
	var top struct {
		Updates []json.RawMessage `json:"updates"`
	}
	if err := json.Unmarshal(body, &top); err != nil {
		if _, wrongType := errors.AsType[*json.UnmarshalTypeError](err); !wrongType {
			return nil, invalidJSONReply(err)
		}
		return nil, notArray()
	}
	// Rails' params.require(:updates) refuses an empty array as missing.
	if len(top.Updates) == 0 {
		return nil, missing()
	}
	if len(top.Updates) > maxItems {
		msg := "cannot hold more than " + strconv.Itoa(maxItems) + " items"
		return nil, withFlat(errorsReply(http.StatusBadRequest, map[string][]string{"updates": {msg}}), reasonTooManyItems, "updates "+msg, "updates")
	}
	items := make([]map[string]json.RawMessage, len(top.Updates))
	for i, raw := range top.Updates {
		if err := json.Unmarshal(raw, &items[i]); err != nil || items[i] == nil {
			return nil, notArray()
		}
	}
	return items, nil
}

// syncItem finds, creates or refuses the user one item names, per the
// published Behaviour table: id (found: update; not found: error), else
// origin_id (found: update; not found: create), else create. It returns
// the stored user, or the item's field errors with nothing written.
// Called with e.mu held for writing.
func (e *Emulator) syncItem(c *company, item map[string]json.RawMessage) (*user, fieldErrors) {
	errs := fieldErrors{}
	attrs := maps.Clone(item)
	for _, k := range syncRefusedKeys {
		if _, ok := attrs[k]; ok {
			errs.add(k, "is not accepted by sync")
			delete(attrs, k)
		}
	}
	var base *user
	switch id, given, ok := itemID(item["id"]); {
	case !ok:
		return nil, fieldErrors{"id": {"is invalid"}}
	case given:
		if base = c.users[id]; base == nil {
			return nil, fieldErrors{"id": {"Entity with this ID not found"}}
		}
	default:
		if origin, _ := decodeJSONValue(kindString, item["origin_id"]); origin != nil {
			base = userByOrigin(c, origin.(string))
		}
	}
	create := base == nil
	if create {
		base = e.newUser()
	}
	cs := changesFromObject(e.fields, attrs)
	if !e.cfg.nullClears {
		cs.refuseNulls()
	}
	// origin_id is unique within a company (published); the docs' error
	// reference gives 409 for a clash, which sync reports per item.
	if ch, ok := cs.fields["origin_id"]; ok && !ch.invalid {
		if o, _ := ch.value.(string); o != "" {
			if holder := userByOrigin(c, o); holder != nil && holder.id != base.id {
				errs.add("origin_id", "has already been taken")
			}
		}
	}
	next, verrs := e.changed(c, base, cs, false)
	for f, msgs := range verrs {
		for _, m := range msgs {
			errs.add(f, m)
		}
	}
	if len(errs) > 0 {
		return nil, errs
	}
	if create {
		e.dir.nextUserID++
		next.createdAt = next.updatedAt
		c.order = append(c.order, next.id) // the newest id is the largest
	}
	c.users[next.id] = next
	return next, nil
}

// itemID reads an item's id: given is false when absent or null, ok is
// false when it is not an integer.
func itemID(raw json.RawMessage) (id int64, given, ok bool) {
	if raw == nil {
		return 0, false, true
	}
	v, ok := decodeJSONValue(kindInt, raw)
	if !ok {
		return 0, false, false
	}
	if v == nil {
		return 0, false, true
	}
	return v.(int64), true, true
}

// userByOrigin finds the company's user holding origin_id o, nil if none.
func userByOrigin(c *company, o string) *user {
	if o == "" {
		return nil
	}
	for _, u := range c.users {
		if got, _ := u.fields["origin_id"].(string); got == o {
			return u
		}
	}
	return nil
}

// newUser is a record for a sync create, not stored yet: the next id of
// the whole directory (ids are unique across companies, as Procore's
// are), active, not an employee. Called with e.mu held.
func (e *Emulator) newUser() *user {
	id := e.dir.nextUserID
	return &user{
		id:        id,
		contactID: id,
		fields:    map[string]any{"is_active": true, "is_employee": false, "add_to_new_projects": false},
	}
}

// syncErrorEntry is one element of the answer's errors: the attributes the
// caller supplied, echoed, plus errors {field: [messages]} (published).
func syncErrorEntry(item map[string]json.RawMessage, errs fieldErrors) []byte {
	echo := make(map[string]any, len(item)+1)
	for k, v := range item {
		echo[k] = v
	}
	echo["errors"] = errs
	b, err := json.Marshal(echo)
	if err != nil { // the values are valid JSON already decoded once
		return []byte(`{"errors":{"base":["is invalid"]}}`)
	}
	return b
}

// syncReply is the 200 {"entities": [...], "errors": [...]}, each array in
// the configured order; every item failed gives the configured status.
func (e *Emulator) syncReply(res syncResult) *reply {
	e.order(res.entities)
	e.order(res.errors)
	b := make([]byte, 0, 64+len(res.entities)*1536)
	b = append(b, `{"entities":[`...)
	b = append(b, bytes.Join(res.entities, []byte{','})...)
	b = append(b, `],"errors":[`...)
	b = append(b, bytes.Join(res.errors, []byte{','})...)
	b = append(b, `]}`...)
	status := http.StatusOK
	if len(res.entities) == 0 && len(res.errors) > 0 {
		status = e.cfg.syncAllFailed
	}
	rep := jsonReply(status, b)
	rep.applied = res.applied
	return rep
}

// order puts one answer array in the configured SyncOrder.
func (e *Emulator) order(list [][]byte) {
	switch e.cfg.syncOrder {
	case SyncOrderReversed:
		slices.Reverse(list)
	case SyncOrderShuffled:
		e.faultMu.Lock() // guards rng
		e.rng.Shuffle(len(list), func(i, j int) { list[i], list[j] = list[j], list[i] })
		e.faultMu.Unlock()
	}
}
