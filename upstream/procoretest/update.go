package procoretest

import (
	"net/http"
	"strings"
	"time"
)

// update is PATCH .../users/{id} after the user was found: body parsing
// (400), required fields (400), admin-only fields (403, changed or merely
// included per AdminFields), validations (422, refused nulls among them),
// then apply (200 with the whole user in the update shape).
func (e *Emulator) update(r *http.Request, rt route, client *OAuthClient, body []byte) *reply {
	cs, bad := decodeChanges(e.fields, r.Header.Get("Content-Type"), body)
	if bad != nil {
		return bad
	}
	if !e.cfg.partialBodies {
		missing := map[string][]string{}
		var names, msgs []string
		for _, f := range e.fields.required {
			if _, ok := cs.fields[f]; !ok {
				missing[f] = []string{"can't be blank"}
				names = append(names, f)
				msgs = append(msgs, f+" can't be blank")
			}
		}
		if len(missing) > 0 {
			return withFlat(errorsReply(http.StatusBadRequest, missing), reasonMissingRequiredFields, strings.Join(msgs, ", "), names...)
		}
	}
	if !e.cfg.nullClears {
		cs.refuseNulls()
	}
	runConfigurable := strings.EqualFold(r.URL.Query().Get("run_configurable_validations"), "true")

	e.mu.Lock()
	defer e.mu.Unlock()
	c := e.dir.companies[rt.companyID]
	if c == nil {
		return notFoundReply()
	}
	u := c.users[rt.userID]
	if u == nil {
		return notFoundReply()
	}
	if !client.DirectoryAdmin {
		for _, f := range e.fields.adminOnly {
			ch, ok := cs.fields[f]
			if !ok {
				continue
			}
			if e.cfg.adminFields == AdminFieldsIncluded || ch.invalid || ch.value != u.fields[f] {
				msg := "You do not have permission to change " + f
				return withFlat(errorsReply(http.StatusForbidden, msg), reasonAdminOnlyField, msg, f)
			}
		}
	}
	next, errs := e.changed(c, u, cs, runConfigurable)
	if len(errs) > 0 {
		return errorsReply(http.StatusUnprocessableEntity, errs)
	}
	now := e.now().UTC()
	switch {
	case cs.avatar != nil:
		next.avatar = cs.avatar.data
		next.avatarType = sniffImage(cs.avatar.data)
		url := e.avatarURL(r, rt, now)
		next.avatarURL = &url
	case cs.clearAvatar:
		next.avatar, next.avatarType, next.avatarURL = nil, "", nil
	}
	c.users[rt.userID] = next
	return jsonReply(http.StatusOK, e.fields.renderUser(make([]byte, 0, 1536), c, next, viewUpdate, e.cfg.responseShape))
}

// changed is the record u would become with cs applied, validated as the
// model would (every field error collected), with name and updated_at
// derived; u itself is untouched. The single update and each sync item go
// through it, so the two routes cannot validate a field differently.
func (e *Emulator) changed(c *company, u *user, cs *changeSet, runConfigurable bool) (*user, fieldErrors) {
	next := u.clone()
	for name, ch := range cs.fields {
		if !ch.invalid {
			next.fields[name] = ch.value
		}
	}
	if errs := e.validate(c, u, next, cs, runConfigurable); len(errs) > 0 {
		return nil, errs
	}
	next.name = fullName(next.fields)
	stamp := e.now().UTC().Format(time.RFC3339)
	next.updatedAt = &stamp
	return next, nil
}
