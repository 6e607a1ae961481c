package upstream

import "strings"

// collectFlat reads Procore's published error body for 400, 401 and 403,
// {"code": int, "message": string, "fields": string, "reason": string,
// "error": string}, so that it yields what the Rails bodies of the same
// refusals yield: the message alone (not the status text in "error" or the
// machine word in "reason", which are only fallbacks), and one FieldError
// per name in the comma-separated "fields", carrying that field's part of
// the message ("last_name can't be blank, email_address can't be blank"
// becomes last_name: "can't be blank", ...) or else the whole message. When
// every field has its own part, the message is rebuilt from the field
// errors, exactly as for {"errors": {field: [messages]}}. It reports false,
// touching nothing, for any other object: the published shape is told
// apart by a numeric code and a string "fields", "reason" or "error".
func collectFlat(m map[string]any, msgs *[]string, fields *[]FieldError) bool {
	if _, ok := m["code"].(float64); !ok {
		return false
	}
	if _, ok := m["errors"]; ok {
		return false
	}
	names, hasFields := m["fields"].(string)
	reason, hasReason := m["reason"].(string)
	status, hasStatus := m["error"].(string)
	_, fieldsOther := m["fields"]
	if fieldsOther && !hasFields || !hasFields && !hasReason && !hasStatus {
		return false
	}
	message, _ := m["message"].(string)
	message = strings.TrimSpace(message)
	var fes []FieldError
	own := 0
	for name := range strings.SplitSeq(names, ",") {
		name = strings.TrimSpace(name)
		if name == "" {
			continue
		}
		fe := FieldError{Field: name}
		if part, ok := fieldPart(message, name); ok {
			fe.Messages = []string{part}
			own++
		} else if message != "" {
			fe.Messages = []string{message}
		}
		fes = append(fes, fe)
	}
	*fields = append(*fields, fes...)
	switch {
	case len(fes) > 0 && own == len(fes):
		// The message is the field errors: let parseErrorBody join them.
	case message != "":
		*msgs = append(*msgs, message)
	case reason != "":
		*msgs = append(*msgs, reason)
	default:
		*msgs = append(*msgs, status)
	}
	return true
}

// fieldPart finds "<field> <text>" among the comma- or semicolon-separated
// parts of message and returns text.
func fieldPart(message, field string) (string, bool) {
	for part := range strings.FieldsFuncSeq(message, func(r rune) bool { return r == ',' || r == ';' }) {
		if rest, ok := strings.CutPrefix(strings.TrimSpace(part), field+" "); ok && strings.TrimSpace(rest) != "" {
			return strings.TrimSpace(rest), true
		}
	}
	return "", false
}
