package operations

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
)

// namePrefix starts every operation name (the collection of
// operations.proto's HTTP bindings).
const namePrefix = "operations/"

// newName makes a fresh operation name: a random UUID, so names cannot be
// guessed (scoping still guards them).
func newName() string { return namePrefix + uuid.NewString() }

// operationID is the id part of a well-formed name, false otherwise.
func operationID(name string) (string, bool) {
	id, ok := strings.CutPrefix(name, namePrefix)
	if !ok {
		return "", false
	}
	if _, err := uuid.Parse(id); err != nil || len(id) != 36 {
		return "", false
	}
	return id, true
}

// indexMember orders a scope's operations newest first when sorted in
// descending byte order: the creation time, fixed width, then the id.
func indexMember(created time.Time, id string) string {
	return fmt.Sprintf("%019d/%s", created.UnixNano(), id)
}

// pageToken is the opaque form of the last index member of a page.
func encodePageToken(member string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(member))
}

// parsePageToken is the index member a page token stands for ("" for the
// first page).
func parsePageToken(tok string) (string, error) {
	if tok == "" {
		return "", nil
	}
	b, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil {
		return "", ErrInvalidPageToken
	}
	ts, id, ok := strings.Cut(string(b), "/")
	if !ok || len(ts) != 19 || strings.Trim(ts, "0123456789") != "" {
		return "", ErrInvalidPageToken
	}
	if _, ok := operationID(namePrefix + id); !ok {
		return "", ErrInvalidPageToken
	}
	return string(b), nil
}

// hashKey turns caller-derived strings (a scope, a request_id) into a key
// part that holds no identity in clear.
func hashKey(parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil)[:16])
}
