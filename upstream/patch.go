package upstream

import (
	"fmt"
	"slices"
	"strings"
)

// Patch is the set of fields an update changes. Each field is absent (not
// sent, so Procore leaves it alone), set to a value, or cleared (sent as
// JSON null or an empty form value). Keeping the three states explicit is
// what lets the service send exactly the masked fields and nothing else.
//
// The zero Patch is empty and ready to use. Entries are kept sorted by
// field name so encoding is deterministic and needs no sorting or map.
type Patch struct {
	entries []patchEntry
}

type patchEntry struct {
	field string
	value Value
}

// Set sets field to v (NullValue clears it), replacing any earlier value.
func (p *Patch) Set(field string, v Value) {
	i, found := slices.BinarySearchFunc(p.entries, field, func(e patchEntry, f string) int {
		return strings.Compare(e.field, f)
	})
	if found {
		p.entries[i].value = v
		return
	}
	p.entries = slices.Insert(p.entries, i, patchEntry{field: field, value: v})
}

// Clone returns a copy that shares nothing with p, so that changing one
// (completing a refused body before sending it again) leaves a request
// already made with the other intact.
func (p *Patch) Clone() Patch { return Patch{entries: slices.Clone(p.entries)} }

// Grow makes room for n more fields, so that setting them does not
// reallocate the patch along the way.
func (p *Patch) Grow(n int) { p.entries = slices.Grow(p.entries, n) }

// SetString sets a string field.
func (p *Patch) SetString(field, v string) { p.Set(field, StringValue(v)) }

// SetInt sets an integer field.
func (p *Patch) SetInt(field string, v int64) { p.Set(field, IntValue(v)) }

// SetBool sets a boolean field.
func (p *Patch) SetBool(field string, v bool) { p.Set(field, BoolValue(v)) }

// Clear makes the update clear field (JSON null).
func (p *Patch) Clear(field string) { p.Set(field, NullValue()) }

// Len is the number of fields the patch sends.
func (p *Patch) Len() int { return len(p.entries) }

// Fields returns the names of the fields the patch sends, sorted.
func (p *Patch) Fields() []string {
	out := make([]string, len(p.entries))
	for i, e := range p.entries {
		out[i] = e.field
	}
	return out
}

// Value returns the value the patch sends for field, and whether it sends
// the field at all.
func (p *Patch) Value(field string) (Value, bool) {
	i, found := slices.BinarySearchFunc(p.entries, field, func(e patchEntry, f string) int {
		return strings.Compare(e.field, f)
	})
	if !found {
		return Value{}, false
	}
	return p.entries[i].value, true
}

// AppendJSON appends the request body `{"user":{...}}` to dst, keys sorted,
// cleared fields as null. It is the exact body UpdateCompanyUser sends, so
// tests can compare bytes.
func (p *Patch) AppendJSON(dst []byte) []byte {
	dst = append(dst, `{"user":{`...)
	dst = p.appendMembers(dst)
	return append(dst, "}}"...)
}

// appendMembers appends the patch's members, `"field":value` separated by
// commas, keys sorted, cleared fields as null: the one encoding of a
// field, which the single update's body and a sync item share.
func (p *Patch) appendMembers(dst []byte) []byte {
	for i, e := range p.entries {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendJSONString(dst, e.field)
		dst = append(dst, ':')
		dst = e.value.appendJSON(dst)
	}
	return dst
}

// validate checks every field against the writable fields and their
// types (writableKinds), so that a mistake fails before anything is sent.
func (p *Patch) validate(writable map[string]ValueKind) error {
	var problems []string
	for _, e := range p.entries {
		kind, ok := writable[e.field]
		switch {
		case !ok:
			problems = append(problems, fmt.Sprintf("%q is not a writable field", e.field))
		case e.value.kind != KindNull && e.value.kind != kind:
			problems = append(problems, fmt.Sprintf("%s takes a %s, not a %s", e.field, kind, e.value.kind))
		}
	}
	if len(problems) > 0 {
		return fmt.Errorf("invalid patch: %s", strings.Join(problems, "; "))
	}
	return nil
}
