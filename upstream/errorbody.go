package upstream

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"
	"unicode/utf8"
)

// maxMessageLen caps Error.Message: it is for humans and logs, the raw body
// is in Error.Body.
const maxMessageLen = 1024

// errorDetails is what can be learned from an error body.
type errorDetails struct {
	message string
	fields  []FieldError
}

// parseErrorBody extracts Procore's message and field errors from any of
// the body shapes Procore is known to use (see CONTRACT.md) and survives
// everything else: plain text, HTML, empty, truncated or binary bodies give
// a best-effort message and never an error or a panic. The result is not
// yet redacted.
func parseErrorBody(body []byte) errorDetails {
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) == 0 {
		return errorDetails{}
	}
	switch trimmed[0] {
	case '{', '[':
		var v any
		dec := json.NewDecoder(bytes.NewReader(trimmed))
		if err := dec.Decode(&v); err != nil {
			// Looks like JSON but is not (truncated): no message is better
			// than a fragment of JSON; the raw body stays in Error.Body.
			return errorDetails{}
		}
		var d errorDetails
		var msgs []string
		collectJSON(v, &msgs, &d.fields)
		d.message = capMessage(strings.Join(dedupe(msgs), "; "))
		d.fields = mergeFieldErrors(d.fields)
		if d.message == "" && len(d.fields) > 0 {
			d.message = capMessage(joinFieldErrors(d.fields))
		}
		return d
	case '"':
		var str string
		if json.Unmarshal(trimmed, &str) == nil {
			return errorDetails{message: capMessage(plainText([]byte(str)))}
		}
	case '<':
		return errorDetails{message: capMessage(htmlTitle(trimmed))}
	}
	return errorDetails{message: capMessage(plainText(trimmed))}
}

// collectJSON walks a decoded error body. The top level is an object in
// every known shape; a bare array or string is taken as messages.
func collectJSON(v any, msgs *[]string, fields *[]FieldError) {
	switch t := v.(type) {
	case map[string]any:
		collectObject(t, msgs, fields)
	case []any:
		for _, x := range t {
			*msgs = append(*msgs, textOf(x)...)
		}
	default:
		*msgs = append(*msgs, textOf(v)...)
	}
}

func collectObject(m map[string]any, msgs *[]string, fields *[]FieldError) {
	if collectFlat(m, msgs, fields) {
		return
	}
	// {"errors": {field: [msgs]}} / {"errors": "text"} / {"errors": [..]}
	if v, ok := m["errors"]; ok {
		switch t := v.(type) {
		case map[string]any:
			collectFieldMap(t, fields)
		default:
			*msgs = append(*msgs, textOf(v)...)
		}
	}
	// {"error": "text"} (+ "error_description") / {"error": {code, message, details}}
	if v, ok := m["error"]; ok {
		switch t := v.(type) {
		case map[string]any:
			if s, ok := t["message"].(string); ok {
				*msgs = append(*msgs, s)
			} else if c, ok := t["code"]; ok {
				*msgs = append(*msgs, textOf(c)...)
			}
			collectDetails(t["details"], msgs, fields)
			if f, ok := t["fields"].(map[string]any); ok {
				collectFieldMap(f, fields)
			}
		case string:
			if desc, ok := m["error_description"].(string); ok && desc != "" {
				*msgs = append(*msgs, t+": "+desc)
			} else {
				*msgs = append(*msgs, t)
			}
		default:
			*msgs = append(*msgs, textOf(v)...)
		}
	}
	// {"code", "message", "fields", "reason", "error"}
	if s, ok := m["message"].(string); ok {
		*msgs = append(*msgs, s)
	}
	if s, ok := m["reason"].(string); ok && s != "" {
		*msgs = append(*msgs, s)
	}
	if v, ok := m["fields"]; ok {
		switch t := v.(type) {
		case map[string]any:
			collectFieldMap(t, fields)
		case []any:
			for _, x := range t {
				if name, ok := x.(string); ok {
					*fields = append(*fields, FieldError{Field: name})
				} else if obj, ok := x.(map[string]any); ok {
					collectDetailObject(obj, msgs, fields)
				}
			}
		case string:
			*fields = append(*fields, FieldError{Field: t})
		}
	}
	if _, hasErr := m["error"]; !hasErr {
		if _, hasErrs := m["errors"]; !hasErrs && len(*msgs) == 0 {
			if s, ok := m["error_description"].(string); ok {
				*msgs = append(*msgs, s)
			}
		}
	}
}

// collectFieldMap reads {field: [messages]} (or {field: "message"}).
func collectFieldMap(m map[string]any, fields *[]FieldError) {
	for name, v := range m {
		*fields = append(*fields, FieldError{Field: name, Messages: textOf(v)})
	}
}

func collectDetails(v any, msgs *[]string, fields *[]FieldError) {
	list, ok := v.([]any)
	if !ok {
		if v != nil {
			*msgs = append(*msgs, textOf(v)...)
		}
		return
	}
	for _, x := range list {
		if obj, ok := x.(map[string]any); ok {
			collectDetailObject(obj, msgs, fields)
			continue
		}
		*msgs = append(*msgs, textOf(x)...)
	}
}

// collectDetailObject reads one {"field": ..., "message": ...} detail.
func collectDetailObject(obj map[string]any, msgs *[]string, fields *[]FieldError) {
	msg, _ := obj["message"].(string)
	if msg == "" {
		msg, _ = obj["description"].(string)
	}
	if field, ok := obj["field"].(string); ok && field != "" {
		fe := FieldError{Field: field}
		if msg != "" {
			fe.Messages = []string{msg}
		}
		*fields = append(*fields, fe)
		return
	}
	if msg != "" {
		*msgs = append(*msgs, msg)
	}
}

// textOf turns a JSON value into message strings.
func textOf(v any) []string {
	switch t := v.(type) {
	case nil:
		return nil
	case string:
		if t == "" {
			return nil
		}
		return []string{t}
	case []any:
		var out []string
		for _, x := range t {
			out = append(out, textOf(x)...)
		}
		return out
	case map[string]any:
		if s, ok := t["message"].(string); ok {
			return []string{s}
		}
		b, err := json.Marshal(t)
		if err != nil {
			return nil
		}
		return []string{string(b)}
	default:
		return []string{fmt.Sprint(t)}
	}
}

// mergeFieldErrors joins duplicate fields and sorts by field name.
func mergeFieldErrors(fes []FieldError) []FieldError {
	if len(fes) == 0 {
		return nil
	}
	sort.SliceStable(fes, func(i, j int) bool { return fes[i].Field < fes[j].Field })
	out := fes[:1]
	for _, fe := range fes[1:] {
		if last := &out[len(out)-1]; last.Field == fe.Field {
			last.Messages = append(last.Messages, fe.Messages...)
			continue
		}
		out = append(out, fe)
	}
	return slices.Clip(out)
}

func dedupe(ss []string) []string {
	out := ss[:0:0]
	for _, s := range ss {
		s = strings.TrimSpace(s)
		if s != "" && !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}

// htmlTitle returns the <title> of an HTML error page (a proxy's 502 page,
// say), or a generic description.
func htmlTitle(b []byte) string {
	lower := bytes.ToLower(b)
	start := bytes.Index(lower, []byte("<title>"))
	if start >= 0 {
		start += len("<title>")
		if end := bytes.Index(lower[start:], []byte("</title>")); end >= 0 {
			if t := plainText(b[start : start+end]); t != "" {
				return t
			}
		}
	}
	return "HTML error page"
}

// plainText makes body text printable on one line: invalid UTF-8 and
// control characters become spaces and runs of space collapse.
func plainText(b []byte) string {
	s := strings.ToValidUTF8(string(b), " ")
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || r == utf8.RuneError {
			return ' '
		}
		return r
	}, s)
	return strings.Join(strings.Fields(s), " ")
}

func capMessage(s string) string {
	if len(s) <= maxMessageLen {
		return s
	}
	cut := maxMessageLen
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}
