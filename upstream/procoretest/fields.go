package procoretest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"

	"github.com/procore-directory/procore-directory/upstream"
)

// fieldKind is the JSON type the contract's field table assigns to a field.
type fieldKind int

const (
	kindString fieldKind = iota
	kindInt
	kindBool
)

type fieldDef struct {
	name string
	kind fieldKind
}

// fieldTable is the emulator's copy of upstream.Fields(): the writable
// fields with their JSON types, the admin-only and the required ones. The
// emulator and the client read the same table, so they cannot disagree on a
// name or a type; it is built once per emulator because upstream.Fields
// reflects on every call and the table is on every request's path.
type fieldTable struct {
	// editable lists, in upstream's order, every field PATCH may change
	// (avatar aside, which is a file): JSON, multipart, seed loading and
	// rendering all walk it.
	editable  []fieldDef
	kinds     map[string]fieldKind
	adminOnly []string // may be changed only by a Directory Admin client (published)
	required  []string // required in every PATCH (published schema)
}

// newFieldTable derives the table from package upstream; an unknown kind
// means the two packages drifted apart, and New fails rather than guess.
func newFieldTable() (*fieldTable, error) {
	ft := &fieldTable{kinds: make(map[string]fieldKind, 32)}
	for _, f := range upstream.Fields() {
		if !f.Writable {
			continue
		}
		var k fieldKind
		switch f.Kind {
		case upstream.KindString:
			k = kindString
		case upstream.KindInt:
			k = kindInt
		case upstream.KindBool:
			k = kindBool
		default:
			return nil, fmt.Errorf("field table: %s has unknown kind %v", f.Name, f.Kind)
		}
		ft.editable = append(ft.editable, fieldDef{name: f.Name, kind: k})
		ft.kinds[f.Name] = k
		if f.AdminOnly {
			ft.adminOnly = append(ft.adminOnly, f.Name)
		}
		if f.Required {
			ft.required = append(ft.required, f.Name)
		}
	}
	if len(ft.editable) == 0 {
		return nil, errors.New("field table: upstream lists no writable field")
	}
	return ft, nil
}

// kind returns a writable field's JSON type; ok is false for any other name.
func (ft *fieldTable) kind(name string) (fieldKind, bool) {
	k, ok := ft.kinds[name]
	return k, ok
}

// decodeJSONValue converts a raw JSON value to the stored representation for
// kind: nil (null), string, int64 or bool. ok is false for a wrong JSON type,
// which validation reports as "is invalid".
func decodeJSONValue(kind fieldKind, raw json.RawMessage) (any, bool) {
	raw = bytes.TrimSpace(raw)
	if string(raw) == "null" {
		return nil, true
	}
	switch kind {
	case kindString:
		var s string
		if len(raw) == 0 || raw[0] != '"' || json.Unmarshal(raw, &s) != nil {
			return nil, false
		}
		return s, true
	case kindBool:
		switch string(raw) {
		case "true":
			return true, true
		case "false":
			return false, true
		}
		return nil, false
	case kindInt:
		if len(raw) == 0 || (raw[0] != '-' && (raw[0] < '0' || raw[0] > '9')) {
			return nil, false
		}
		if n, err := strconv.ParseInt(string(raw), 10, 64); err == nil {
			return n, true
		}
		// Accept 214.0 or 2.14e2 as Rails would, but not 2.5.
		f, err := strconv.ParseFloat(string(raw), 64)
		if err != nil || f != math.Trunc(f) || math.Abs(f) > 1<<53 {
			return nil, false
		}
		return int64(f), true
	}
	return nil, false
}

// decodeFormValue converts a multipart/url-encoded value: an empty value
// clears, booleans are true/false (Rails also takes 1/0), integers decimal.
func decodeFormValue(kind fieldKind, s string) (any, bool) {
	if s == "" {
		return nil, true
	}
	switch kind {
	case kindString:
		return s, true
	case kindBool:
		switch s {
		case "true", "1":
			return true, true
		case "false", "0":
			return false, true
		}
		return nil, false
	case kindInt:
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return nil, false
		}
		return n, true
	}
	return nil, false
}
