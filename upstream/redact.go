package upstream

import "strings"

const (
	redactedEmail = "[email]"
	redactedPhone = "[phone]"
	redactedToken = "[token]"
)

// redact removes e-mail-like and phone-like substrings from s, and the
// secret (a token) when it is not empty: in any letter case, and any piece
// of it of minTokenFragment or more characters, since an upstream may echo
// a token upper-cased, truncated or split. Procore echoes submitted
// values in its messages ("jo@x.com has already been taken"); those
// messages end up in logs and gRPC statuses, where personal data must not.
// It is a hand-written scanner rather than a regular expression so the
// package needs no compiled globals.
func redact(s, secret string) string {
	s = redactSecret(s, secret)
	s = redactEmails(s)
	return redactPhones(s)
}

// minTokenFragment is the shortest piece of a token that is redacted: long
// enough that ordinary words and numbers do not match by chance, short
// enough that a leaked piece is of no use.
const minTokenFragment = 8

// redactSecret replaces every span of s made of pieces of secret at least
// minTokenFragment long (ASCII case ignored), or secret itself when it is
// shorter than that.
func redactSecret(s, secret string) string {
	if secret == "" || s == "" {
		return s
	}
	ls, lsec := asciiLower(s), asciiLower(secret)
	n := min(minTokenFragment, len(lsec))
	grams := make(map[string]bool, len(lsec)-n+1)
	for i := 0; i+n <= len(lsec); i++ {
		grams[lsec[i:i+n]] = true
	}
	// covered[i]: byte i of s lies in a window of n bytes found in secret.
	covered := make([]bool, len(s))
	found := false
	for i := 0; i+n <= len(ls); i++ {
		if grams[ls[i:i+n]] {
			found = true
			for j := i; j < i+n; j++ {
				covered[j] = true
			}
		}
	}
	if !found {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		if !covered[i] {
			b.WriteByte(s[i])
			i++
			continue
		}
		b.WriteString(redactedToken)
		for i < len(s) && covered[i] {
			i++
		}
	}
	return b.String()
}

// asciiLower lower-cases ASCII letters only, so byte offsets are kept.
func asciiLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
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
// least 7 digits, which also hides long numbers that are not phones (the
// safe side), except numbers that say what they are: a bare run of 7 to 9
// digits (no punctuation; a phone with an area code has 10 or more, and
// sizes and ids are bare), unless a word before it speaks of a phone; and
// any number followed by a unit (bytes, MiB, ms, ...) or following an id
// ("id 1234567890", "user_id: ...").
func redactPhones(s string) string {
	return replaceSpans(s, redactedPhone, func(s string, i, _ int) (start, end, next int, ok bool) {
		if c := s[i]; !(c >= '0' && c <= '9' || c == '+' || c == '(') {
			return 0, 0, i + 1, false
		}
		j, lastDigit, digits, bare := i, -1, 0, true
		for j < len(s) && isPhoneByte(s[j]) {
			if s[j] >= '0' && s[j] <= '9' {
				digits++
				lastDigit = j
			} else if digits > 0 && j < len(s)-1 && s[j+1] >= '0' && s[j+1] <= '9' {
				bare = false // punctuation between digits
			}
			j++
		}
		if digits < 7 || (i > 0 && isWordByte(s[i-1])) {
			return 0, 0, j + 1, false
		}
		end = lastDigit + 1
		switch {
		case followedByUnit(s[end:]), afterID(s[:i]):
			return 0, 0, j + 1, false
		case bare && digits < 10 && !nearPhoneWord(s[:i]):
			return 0, 0, j + 1, false
		}
		return i, end, 0, true
	})
}

func isWordByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_'
}

// followedByUnit reports that rest starts with an optional space and a unit
// of size or time, as a whole word.
func followedByUnit(rest string) bool {
	rest = strings.TrimPrefix(rest, " ")
	for _, unit := range []string{"bytes", "byte", "kib", "mib", "gib", "kb", "mb", "gb", "ms", "ns", "us", "b", "s"} {
		if len(rest) >= len(unit) && asciiLower(rest[:len(unit)]) == unit && (len(rest) == len(unit) || !isWordByte(rest[len(unit)])) {
			return true
		}
	}
	return false
}

// afterID reports that before ends with an id's name: a word "id" or
// "ID", or ending in "_id", "Id" or "ID" (user_id, companyId), then
// optional ':', '=', '#' or spaces. "paid" and "valid" are no ids.
func afterID(before string) bool {
	before = strings.TrimRight(before, " :=#")
	k := len(before)
	for k > 0 && isWordByte(before[k-1]) {
		k--
	}
	word := before[k:]
	switch {
	case len(word) < 2:
		return false
	case strings.EqualFold(word, "id"):
		return true
	}
	tail := word[len(word)-2:]
	return tail == "Id" || tail == "ID" || strings.HasSuffix(asciiLower(word), "_id")
}

// nearPhoneWord reports that the 40 bytes before a number mention a phone
// or fax (leaving out the marker of an earlier redaction, so redacting
// twice changes nothing).
func nearPhoneWord(before string) bool {
	ctx := asciiLower(before[max(0, len(before)-40):])
	ctx = strings.ReplaceAll(ctx, redactedPhone, "")
	return strings.Contains(ctx, "phone") || strings.Contains(ctx, "fax") || strings.Contains(ctx, "mobile") || strings.Contains(ctx, "tel")
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
