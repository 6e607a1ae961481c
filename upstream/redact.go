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
	var b strings.Builder
	last := 0
	for i := 0; i < len(s); i++ {
		if s[i] != '@' {
			continue
		}
		start := i
		for start > last && isLocalPartByte(s[start-1]) {
			start--
		}
		end := i + 1
		for end < len(s) && isDomainByte(s[end]) {
			end++
		}
		// Trailing dots end a sentence, not the domain.
		for end > i+1 && s[end-1] == '.' {
			end--
		}
		domain := s[i+1 : end]
		if start == i || !strings.Contains(domain, ".") {
			continue
		}
		b.WriteString(s[last:start])
		b.WriteString(redactedEmail)
		last = end
		i = end - 1
	}
	if last == 0 {
		return s
	}
	b.WriteString(s[last:])
	return b.String()
}

func isPhoneByte(c byte) bool {
	return c >= '0' && c <= '9' || c == ' ' || c == '-' || c == '.' || c == '(' || c == ')' || c == '+' || c == '/'
}

// redactPhones replaces runs of digits and phone punctuation holding at
// least 7 digits. That also hides long numbers that are not phones, which
// is the safe side.
func redactPhones(s string) string {
	var b strings.Builder
	last := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c == '+' || c == '(') {
			continue
		}
		j := i
		lastDigit := -1
		digits := 0
		for j < len(s) && isPhoneByte(s[j]) {
			if s[j] >= '0' && s[j] <= '9' {
				digits++
				lastDigit = j
			}
			j++
		}
		if digits < 7 {
			i = j
			continue
		}
		end := lastDigit + 1
		b.WriteString(s[last:i])
		b.WriteString(redactedPhone)
		last = end
		i = end - 1
	}
	if last == 0 {
		return s
	}
	b.WriteString(s[last:])
	return b.String()
}
