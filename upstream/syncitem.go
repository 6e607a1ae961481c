package upstream

import "strconv"

// SyncItem is one user's change in a sync request (SyncCompanyUsers): the
// user's id and exactly the fields of the update's Patch, encoded as the
// single update encodes them, so a cleared field is null here too. Build
// one with Client.NewSyncItem; the zero SyncItem names no user and every
// sync refuses it, because Procore creates a user for an item without an
// id.
type SyncItem struct {
	companyID int64
	userID    int64
	// encoded is the item as sent: {"id":N,"field":value,...}.
	encoded []byte
}

// UserID is the id of the user the item changes, by which the sync's
// answer is matched to it.
func (it SyncItem) UserID() int64 { return it.userID }

// NotSyncableError says that an update is valid but cannot be sent in a
// sync item, so the caller sends it with UpdateCompanyUser instead: it
// uploads an avatar (sync takes JSON, and its avatar member has no form
// encoding), sets a field the sync's schema lacks (add_to_new_projects),
// or asks for run_configurable_validations, which sync has no parameter
// for.
type NotSyncableError struct {
	// UserID is the user the update is for.
	UserID int64
	// Field names what sync cannot carry: "avatar",
	// "run_configurable_validations" or the field's name.
	Field string
}

// Error names the user and what sync cannot carry; no value.
func (e *NotSyncableError) Error() string {
	return "procore sync: the update of user " + strconv.FormatInt(e.UserID, 10) + " carries " + e.Field +
		", which sync cannot send; send it with UpdateCompanyUser"
}

// NewSyncItem builds the sync item for req, with the checks of the single
// update (positive ids, writable fields, their types): a request the
// single update refuses is refused here with the same *Error. A request
// that is valid but that sync cannot carry fails with a
// *NotSyncableError. req.CompanyID must be the company the item is
// synced in.
func (c *Client) NewSyncItem(req UpdateRequest) (SyncItem, error) {
	if req.UserID <= 0 {
		return SyncItem{}, &Error{Op: opSync, Kind: KindInvalidRequest,
			Message: "a sync item needs the user's id: Procore creates a user for an item without one"}
	}
	if e := checkUpdate(opSync, req, c.writable); e != nil {
		return SyncItem{}, e
	}
	if f := c.unsyncable(&req); f != "" {
		return SyncItem{}, &NotSyncableError{UserID: req.UserID, Field: f}
	}
	return SyncItem{companyID: req.CompanyID, userID: req.UserID, encoded: appendSyncItem(nil, req.UserID, &req.Patch)}, nil
}

// unsyncable names the first thing in req that a sync item cannot carry,
// or "".
func (c *Client) unsyncable(req *UpdateRequest) string {
	switch {
	case req.Avatar != nil:
		return avatarField
	case req.RunConfigurableValidations != nil:
		return "run_configurable_validations"
	}
	for _, e := range req.Patch.entries {
		if !c.syncable[e.field] {
			return e.field
		}
	}
	return ""
}

// appendSyncItem appends {"id":userID, <the patch's members>}: the id
// first, then the members as the single update's body has them.
func appendSyncItem(dst []byte, userID int64, p *Patch) []byte {
	dst = append(dst, `{"id":`...)
	dst = strconv.AppendInt(dst, userID, 10)
	if p.Len() > 0 {
		dst = append(dst, ',')
		dst = p.appendMembers(dst)
	}
	return append(dst, '}')
}
