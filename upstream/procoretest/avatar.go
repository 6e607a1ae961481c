package procoretest

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// avatarPathPrefix is where uploaded avatars are served, like Procore's
// signed storage URLs but on the emulator's own host.
const avatarPathPrefix = "/_emulator/avatars/"

// avatarTTL is how long an avatar URL stays valid after the upload.
const avatarTTL = time.Hour

// sniffImage names the image type from its magic bytes, "" if not one of
// the accepted JPEG, PNG or GIF.
func sniffImage(b []byte) string {
	switch {
	case bytes.HasPrefix(b, []byte{0xFF, 0xD8, 0xFF}):
		return "image/jpeg"
	case bytes.HasPrefix(b, []byte("\x89PNG\r\n\x1a\n")):
		return "image/png"
	case bytes.HasPrefix(b, []byte("GIF87a")), bytes.HasPrefix(b, []byte("GIF89a")):
		return "image/gif"
	}
	return ""
}

func (e *Emulator) sign(path string, expires int64) string {
	m := hmac.New(sha256.New, e.signKey)
	fmt.Fprintf(m, "%s\n%d", path, expires)
	return hex.EncodeToString(m.Sum(nil))
}

// avatarURL builds a signed, expiring URL on the host the client used.
func (e *Emulator) avatarURL(r *http.Request, rt route, now time.Time) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	path := fmt.Sprintf("%s%d/%d/%d", avatarPathPrefix, rt.companyID, rt.userID, now.UnixNano())
	exp := now.Add(avatarTTL).Unix()
	return fmt.Sprintf("%s://%s%s?expires=%d&signature=%s", scheme, r.Host, path, exp, e.sign(path, exp))
}

// serveAvatar answers GET /_emulator/avatars/{company}/{user}/{n} when the
// signature is right and not expired (403 otherwise), as a signed URL would.
func (e *Emulator) serveAvatar(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	exp, err := strconv.ParseInt(q.Get("expires"), 10, 64)
	if err != nil || !hmac.Equal([]byte(q.Get("signature")), []byte(e.sign(r.URL.Path, exp))) || e.now().Unix() >= exp {
		textReply(http.StatusForbidden, "Request has expired or signature does not match").write(w)
		return
	}
	parts := strings.Split(strings.TrimPrefix(r.URL.Path, avatarPathPrefix), "/")
	if len(parts) != 3 {
		notFoundReply().write(w)
		return
	}
	cid, err1 := strconv.ParseInt(parts[0], 10, 64)
	uid, err2 := strconv.ParseInt(parts[1], 10, 64)
	if err1 != nil || err2 != nil {
		notFoundReply().write(w)
		return
	}
	e.mu.RLock()
	var data []byte
	var ctype string
	if c := e.dir.companies[cid]; c != nil {
		if u := c.users[uid]; u != nil && u.avatarURL != nil && strings.Contains(*u.avatarURL, r.URL.Path+"?") {
			data, ctype = u.avatar, u.avatarType
		}
	}
	e.mu.RUnlock()
	if data == nil {
		notFoundReply().write(w)
		return
	}
	rep := &reply{status: http.StatusOK, body: data}
	rep.header().Set("Content-Type", ctype)
	rep.write(w)
}
