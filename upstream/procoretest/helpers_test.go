package procoretest

import (
	"bytes"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/textproto"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

const (
	adminClient = "directory-admin-app"
	fieldClient = "field-app"
	summit      = int64(8089)
	harbor      = int64(5120)
)

// fakeClock is a settable clock for WithClock.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *fakeClock {
	return &fakeClock{t: time.Date(2026, 11, 29, 10, 0, 0, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func newEmu(t testing.TB, opts ...Option) *Emulator {
	t.Helper()
	e, err := New(opts...)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return e
}

func mustToken(t testing.TB, e *Emulator, client string) string {
	t.Helper()
	tok, err := e.IssueToken(client)
	if err != nil {
		t.Fatalf("IssueToken: %v", err)
	}
	return tok
}

// call is one in-process request.
type call struct {
	method, path, token, companyHdr, contentType string
	noCompanyHdr                                 bool
	body                                         []byte
	header                                       http.Header
}

func userPath(cid, uid int64) string {
	return "/rest/v1.3/companies/" + itoa(cid) + "/users/" + itoa(uid)
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func do(t testing.TB, e http.Handler, c call) *httptest.ResponseRecorder {
	t.Helper()
	var body io.Reader
	if c.body != nil {
		body = bytes.NewReader(c.body)
	}
	r := httptest.NewRequest(c.method, c.path, body)
	if c.token != "" {
		r.Header.Set("Authorization", "Bearer "+c.token)
	}
	if !c.noCompanyHdr {
		hdr := c.companyHdr
		if hdr == "" {
			hdr = companyFromPath(c.path)
		}
		r.Header.Set("Procore-Company-Id", hdr)
	}
	ct := c.contentType
	if ct == "" && c.body != nil {
		ct = "application/json"
	}
	if ct != "" {
		r.Header.Set("Content-Type", ct)
	}
	for k, v := range c.header {
		r.Header[k] = v
	}
	w := httptest.NewRecorder()
	e.ServeHTTP(w, r)
	return w
}

func companyFromPath(p string) string {
	rest, ok := strings.CutPrefix(p, "/rest/v1.3/companies/")
	if !ok {
		return ""
	}
	id, _, _ := strings.Cut(rest, "/")
	return id
}

// patchBody wraps fields as {"user": fields}.
func patchBody(fields map[string]any) []byte {
	b, _ := json.Marshal(map[string]any{"user": fields})
	return b
}

// withRequired adds the stored last_name and email of user 1001 unless set.
func withRequired(fields map[string]any) map[string]any {
	out := map[string]any{"last_name": "Okafor", "email_address": "maria.okafor@summitridge.example"}
	for k, v := range fields {
		out[k] = v
	}
	return out
}

func decode(t testing.TB, b []byte) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("decode %q: %v", b, err)
	}
	return m
}

// multipartBody builds a multipart body with fields and one optional file.
type mpFile struct {
	field, filename, contentType string
	data                         []byte
}

func multipartBody(t testing.TB, fields [][2]string, files ...mpFile) ([]byte, string) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for _, f := range fields {
		if err := mw.WriteField(f[0], f[1]); err != nil {
			t.Fatal(err)
		}
	}
	for _, f := range files {
		h := textproto.MIMEHeader{}
		h.Set("Content-Disposition", `form-data; name="`+f.field+`"; filename="`+f.filename+`"`)
		h.Set("Content-Type", f.contentType)
		pw, err := mw.CreatePart(h)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := pw.Write(f.data); err != nil {
			t.Fatal(err)
		}
	}
	if err := mw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes(), mw.FormDataContentType()
}

func pngBytes(size int) []byte {
	b := make([]byte, size)
	copy(b, "\x89PNG\r\n\x1a\n")
	return b
}
