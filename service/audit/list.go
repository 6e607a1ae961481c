package audit

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Entry is one event of the trail with its position.
type Entry struct {
	// Cursor is the entry's position: reading after it continues after
	// this entry (a Stream id, a file offset).
	Cursor string
	Event  Event
}

// Reader reads the trail back, oldest first: the Redis Stream for the
// fleet, or a file on one replica.
type Reader interface {
	// Read returns up to n entries after cursor ("": from the start);
	// fewer than n means there are no more for now.
	Read(ctx context.Context, after string, n int) ([]Entry, error)
}

// Page sizes of ListAuditEvents (AIP-158).
const (
	DefaultPageSize = 100
	MaxPageSize     = 1000
	// scanBudget bounds the entries one page reads while looking for
	// matches: a page may come back short with a token to go on.
	scanBudget = 20_000
	readChunk  = 512
)

// Filter is the AIP-160 subset ListAuditEvents supports: comparisons
// joined by AND, on user_id (=), caller (=), event (=) and time (>=, >,
// <=, <).
type Filter struct {
	UserID        int64
	Caller        string
	Kind          string    // event: KindUpdate or KindSending
	From, Until   time.Time // From inclusive unless FromExclusive; Until exclusive unless UntilInclusive
	fromExclusive bool
	untilIncl     bool
}

// termRE is one comparison of the filter.
var termRE = regexp.MustCompile(`^\s*(user_id|caller|event|time)\s*(=|>=|<=|>|<)\s*(\S.*?)\s*$`)

// ErrFilter is wrapped by every error of ParseFilter.
var ErrFilter = errors.New("filter")

// ParseFilter parses the filter of ListAuditEvents.
func ParseFilter(s string) (Filter, error) {
	var f Filter
	if strings.TrimSpace(s) == "" {
		return f, nil
	}
	for i, term := range strings.Split(s, " AND ") {
		m := termRE.FindStringSubmatch(term)
		if m == nil { // the term is not echoed: it may hold anything, an e-mail address too
			return Filter{}, fmt.Errorf("%w: comparison %d: want user_id = <id>, caller = \"<identity>\", event = \"update\" (or \"sending\") or time >= \"<RFC 3339>\" (also >, <, <=), joined by AND", ErrFilter, i+1)
		}
		field, op, val := m[1], m[2], m[3]
		switch field {
		case "user_id":
			id, err := strconv.ParseInt(val, 10, 64)
			if op != "=" || err != nil || id <= 0 {
				return Filter{}, fmt.Errorf("%w: user_id: want user_id = <positive id>", ErrFilter)
			}
			f.UserID = id
		case "caller":
			c, err := strconv.Unquote(val)
			if op != "=" || err != nil || c == "" {
				return Filter{}, fmt.Errorf("%w: caller: want caller = \"<identity>\" (quoted)", ErrFilter)
			}
			f.Caller = c
		case "event":
			k, err := strconv.Unquote(val)
			if op != "=" || err != nil || (k != KindUpdate && k != KindSending) {
				return Filter{}, fmt.Errorf("%w: event: want event = \"update\" or event = \"sending\"", ErrFilter)
			}
			f.Kind = k
		case "time":
			raw, err := strconv.Unquote(val)
			t, perr := time.Parse(time.RFC3339Nano, raw)
			if op == "=" || err != nil || perr != nil {
				return Filter{}, fmt.Errorf("%w: time: want time >= \"<RFC 3339>\" (or >, <, <=)", ErrFilter)
			}
			switch op {
			case ">=", ">":
				f.From, f.fromExclusive = t, op == ">"
			default:
				f.Until, f.untilIncl = t, op == "<="
			}
		}
	}
	return f, nil
}

// Match reports whether e of companyID passes f.
func (f Filter) match(companyID int64, e *Event) bool {
	switch {
	case e.CompanyID != companyID,
		f.UserID != 0 && e.UserID != f.UserID,
		f.Caller != "" && e.Caller != f.Caller,
		f.Kind != "" && e.Event != f.Kind,
		!f.From.IsZero() && (e.Time.Before(f.From) || (f.fromExclusive && e.Time.Equal(f.From))),
		!f.Until.IsZero() && (e.Time.After(f.Until) || (!f.untilIncl && e.Time.Equal(f.Until))):
		return false
	}
	return true
}

// ErrPageToken is returned for a page token that is not one of this
// listing's (another filter or company, or garbled).
var ErrPageToken = errors.New("page_token is not the next_page_token of this listing (same company and filter)")

// List is one page of ListAuditEvents: the events of companyID that pass
// filter, after pageToken, oldest first, and the token of the next page
// ("" at the end).
func List(ctx context.Context, r Reader, companyID int64, filter string, pageSize int, pageToken string) ([]Event, string, error) {
	f, err := ParseFilter(filter)
	if err != nil {
		return nil, "", err
	}
	switch {
	case pageSize <= 0:
		pageSize = DefaultPageSize
	case pageSize > MaxPageSize:
		pageSize = MaxPageSize
	}
	bind := listingID(companyID, filter)
	cursor, err := decodeToken(pageToken, bind)
	if err != nil {
		return nil, "", err
	}
	var out []Event
	for scanned := 0; scanned < scanBudget; {
		entries, err := r.Read(ctx, cursor, readChunk)
		if err != nil {
			return nil, "", err
		}
		for _, en := range entries {
			cursor = en.Cursor
			if f.match(companyID, &en.Event) {
				out = append(out, en.Event)
				if len(out) == pageSize {
					return out, encodeToken(cursor, bind), nil
				}
			}
		}
		scanned += len(entries)
		if len(entries) < readChunk {
			return out, "", nil
		}
	}
	return out, encodeToken(cursor, bind), nil
}

// listingID binds a page token to its company and filter.
func listingID(companyID int64, filter string) string {
	sum := sha256.Sum256([]byte(strconv.FormatInt(companyID, 10) + "\x00" + filter))
	return hex.EncodeToString(sum[:8])
}

func encodeToken(cursor, bind string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(bind + "|" + cursor))
}

func decodeToken(token, bind string) (string, error) {
	if token == "" {
		return "", nil
	}
	raw, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil {
		return "", ErrPageToken
	}
	b, cursor, ok := strings.Cut(string(raw), "|")
	if !ok || b != bind {
		return "", ErrPageToken
	}
	return cursor, nil
}
