package upstream

import "strings"

const (
	redactedEmail = "[email]"
	redactedPhone = "[phone]"
	redactedToken = "[token]"
)

// redact removes e-mail-like and phone-like substrings from s, and every
// occurrence of secret when it is not empty. Procore echoes submitted
// values in its messages ("jo@x.com has already been taken"); those
// messages end up in logs and gRPC statuses, where personal data must not.
// It is a hand-written scanner rather than a regular expression so the
// package needs no compiled globals.
func redact(s, secret string) string {
	if secret != "" && strings.Contains(s, secret) {
		s = strings.ReplaceAll(s, secret, redactedToken)
	}
	s = redactEmails(s)
	return redactPhones(s)
}

func isLocalPartByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
		strings.IndexByte(".!#$%&'*+/=?^_`{|}~-", c) >= 0 || c >= 0x80
}

func isDomainByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '-' || c >= 0x80
}

func redactEmails(s string) string {
	if strings.IndexByte(s, '@') < 0 {
		return s
	}
	return replaceSpans(s, redactedEmail, func(s string, i, last int) (start, end, next int, ok bool) {
		if s[i] != '@' {
			return 0, 0, i + 1, false
		}
		start = i
		for start > last && isLocalPartByte(s[start-1]) {
			start--
		}
		end = i + 1
		for end < len(s) && isDomainByte(s[end]) {
			end++
		}
		// Trailing dots end a sentence, not the domain.
		for end > i+1 && s[end-1] == '.' {
			end--
		}
		if start == i || !strings.Contains(s[i+1:end], ".") {
			return 0, 0, i + 1, false
		}
		return start, end, 0, true
	})
}

func isPhoneByte(c byte) bool {
	return c >= '0' && c <= '9' || c == ' ' || c == '-' || c == '.' || c == '(' || c == ')' || c == '+' || c == '/'
}

// redactPhones replaces runs of digits and phone punctuation holding at
// least 7 digits. That also hides long numbers that are not phones, which
// is the safe side.
func redactPhones(s string) string {
	return replaceSpans(s, redactedPhone, func(s string, i, _ int) (start, end, next int, ok bool) {
		if c := s[i]; !(c >= '0' && c <= '9' || c == '+' || c == '(') {
			return 0, 0, i + 1, false
		}
		j, lastDigit, digits := i, -1, 0
		for j < len(s) && isPhoneByte(s[j]) {
			if s[j] >= '0' && s[j] <= '9' {
				digits++
				lastDigit = j
			}
			j++
		}
		if digits < 7 {
			return 0, 0, j + 1, false
		}
		return i, lastDigit + 1, 0, true
	})
}

// replaceSpans scans s left to right and replaces each span find reports
// with mark. find looks at position i (everything before last has been
// replaced already) and returns the span [start, end) to replace, or ok
// false and where to continue.
func replaceSpans(s, mark string, find func(s string, i, last int) (start, end, next int, ok bool)) string {
	var b strings.Builder
	last := 0
	for i := 0; i < len(s); {
		start, end, next, ok := find(s, i, last)
		if !ok {
			i = next
			continue
		}
		b.WriteString(s[last:start])
		b.WriteString(mark)
		last, i = end, end
	}
	if last == 0 {
		return s
	}
	b.WriteString(s[last:])
	return b.String()
}
