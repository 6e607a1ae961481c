package procoretest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/url"
	"strings"
)

// maxBody bounds what the emulator reads; above the 10 MiB avatar limit so
// an oversized avatar reaches validation (422) as on Procore.
const maxBody = 64 << 20

// bodyKind is how the body was encoded.
type bodyKind int

const (
	bodyJSON bodyKind = iota
	bodyMultipart
	bodyURLEncoded
	bodyOther
)

// parsedForm is a decoded multipart or url-encoded body.
type parsedForm struct {
	fields map[string]string
	files  []formFile
}

type formFile struct {
	field, filename, contentType string
	data                         []byte
}

func classify(contentType string) (bodyKind, map[string]string) {
	if strings.TrimSpace(contentType) == "" {
		return bodyJSON, nil
	}
	mt, params, err := mime.ParseMediaType(contentType)
	if err != nil {
		return bodyOther, nil
	}
	switch {
	case mt == "multipart/form-data":
		return bodyMultipart, params
	case mt == "application/x-www-form-urlencoded":
		return bodyURLEncoded, params
	case mt == "application/json" || strings.HasSuffix(mt, "+json"):
		return bodyJSON, params
	}
	return bodyOther, params
}

func parseMultipartBody(body []byte, boundary string) (*parsedForm, error) {
	if boundary == "" {
		return nil, errors.New("multipart: no boundary")
	}
	mr := multipart.NewReader(bytes.NewReader(body), boundary)
	f := &parsedForm{fields: map[string]string{}}
	for {
		p, err := mr.NextRawPart()
		if errors.Is(err, io.EOF) {
			return f, nil
		}
		if err != nil {
			return nil, fmt.Errorf("multipart: %w", err)
		}
		data, err := io.ReadAll(p)
		if err != nil {
			return nil, fmt.Errorf("multipart part %q: %w", p.FormName(), err)
		}
		if p.FileName() != "" {
			f.files = append(f.files, formFile{field: p.FormName(), filename: p.FileName(), contentType: p.Header.Get("Content-Type"), data: data})
			continue
		}
		f.fields[p.FormName()] = string(data)
	}
}

func parseURLEncodedBody(body []byte) (*parsedForm, error) {
	v, err := url.ParseQuery(string(body))
	if err != nil {
		return nil, fmt.Errorf("form: %w", err)
	}
	f := &parsedForm{fields: make(map[string]string, len(v))}
	for k, vals := range v {
		f.fields[k] = vals[len(vals)-1]
	}
	return f, nil
}

func (f *parsedForm) logForm() *RequestForm {
	rf := &RequestForm{Fields: f.fields, Files: make([]RequestFile, 0, len(f.files))}
	for _, fl := range f.files {
		rf.Files = append(rf.Files, RequestFile{Field: fl.field, Filename: fl.filename, ContentType: fl.contentType, Size: int64(len(fl.data))})
	}
	return rf
}

// change is one field's new value; invalid marks a wrong type ("is invalid").
// null marks a JSON null or an empty form value, emptyText an empty form
// value of a string field, so WithNullClears(false) can refuse the first
// and keep the second as "".
type change struct {
	value     any
	invalid   bool
	null      bool
	emptyText bool
	refused   bool // a null refused by WithNullClears(false): "can't be null"
}

// changeSet is a decoded PATCH body: only present fields appear.
type changeSet struct {
	fields      map[string]change
	avatar      *formFile // a new avatar
	clearAvatar bool
	avatarBad   bool // avatar given in a form that cannot be an image
	avatarNull  bool // clearing the avatar refused by WithNullClears(false)
}

// refuseNulls applies WithNullClears(false): a null becomes a 422 "can't be
// null" and is not applied, an empty string form value is kept as "".
func (cs *changeSet) refuseNulls() {
	for name, ch := range cs.fields {
		switch {
		case !ch.null:
			continue
		case ch.emptyText:
			ch.value, ch.null = "", false
		default:
			ch.invalid, ch.refused = true, true
		}
		cs.fields[name] = ch
	}
	if cs.clearAvatar {
		cs.clearAvatar, cs.avatarNull = false, true
	}
}

// decodeJSONChanges reads {"user": {...}}; unknown keys are ignored as
// Rails strong parameters would. A nil changeSet with nil error means the
// user object is missing.
func decodeJSONChanges(ft *fieldTable, body []byte) (*changeSet, error) {
	var top struct {
		User map[string]json.RawMessage `json:"user"`
	}
	if err := json.Unmarshal(body, &top); err != nil {
		if _, wrongType := errors.AsType[*json.UnmarshalTypeError](err); wrongType {
			return nil, nil // "user" is not an object, or the body is not one
		}
		return nil, fmt.Errorf("parse JSON body: %w", err)
	}
	if top.User == nil {
		return nil, nil
	}
	return changesFromObject(ft, top.User), nil
}

// changesFromObject turns one decoded JSON object of user attributes (the
// single update's "user", or one sync item) into a changeSet: the same
// typing and null rules for both routes. Keys that are not writable fields
// (id, errors, anything unknown) are ignored, as Rails strong parameters do.
func changesFromObject(ft *fieldTable, u map[string]json.RawMessage) *changeSet {
	cs := &changeSet{fields: make(map[string]change, len(u))}
	for k, v := range u {
		if k == "avatar" {
			if string(bytes.TrimSpace(v)) == "null" {
				cs.clearAvatar = true
			} else {
				cs.avatarBad = true
			}
			continue
		}
		kind, known := ft.kind(k)
		if !known {
			continue
		}
		val, ok := decodeJSONValue(kind, v)
		cs.fields[k] = change{value: val, invalid: !ok, null: ok && val == nil}
	}
	return cs
}

// decodeFormChanges reads user[field] form fields and the user[avatar]
// file part. A nil changeSet means no user[...] parameter was sent.
func decodeFormChanges(ft *fieldTable, f *parsedForm) *changeSet {
	cs := &changeSet{fields: make(map[string]change, len(f.fields))}
	seen := false
	for k, v := range f.fields {
		name, ok := userParam(k)
		if !ok {
			continue
		}
		seen = true
		if name == "avatar" {
			if v == "" {
				cs.clearAvatar = true
			} else {
				cs.avatarBad = true
			}
			continue
		}
		kind, known := ft.kind(name)
		if !known {
			continue
		}
		val, ok := decodeFormValue(kind, v)
		cs.fields[name] = change{value: val, invalid: !ok, null: v == "", emptyText: v == "" && kind == kindString}
	}
	for i := range f.files {
		name, ok := userParam(f.files[i].field)
		if !ok {
			continue
		}
		seen = true
		if name == "avatar" {
			cs.avatar = &f.files[i]
			cs.clearAvatar, cs.avatarBad = false, false
		}
	}
	if !seen {
		return nil
	}
	return cs
}

// userParam extracts x from "user[x]".
func userParam(k string) (string, bool) {
	if !strings.HasPrefix(k, "user[") || !strings.HasSuffix(k, "]") {
		return "", false
	}
	return k[len("user[") : len(k)-1], true
}
