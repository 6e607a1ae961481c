package upstream

import (
	"bytes"
	"io"
	"mime/multipart"
	"net/textproto"
	"slices"
)

// Avatar is an image to upload with an update. Its presence turns the
// request into multipart/form-data, as Procore requires for uploads.
type Avatar struct {
	FileName    string
	ContentType string
	Data        []byte
}

// requestBody produces a request body once per attempt (and once more for
// each replay net/http makes through Request.GetBody), so retries never
// re-read a consumed stream.
type requestBody interface {
	open() (io.ReadCloser, error)
	contentType() string
	length() int64
}

// jsonBody is a Patch encoded once and shared, read only, by every attempt.
// Each attempt reads it through io.NopCloser(bytes.NewReader(...)), a body
// net/http knows to be in memory, so that the headers and the body go out
// in one write (Go issue 22088; BENCHMARKS.md, "upstream"). The bytes are
// never reused, so a reader net/http closes late, from another goroutine,
// is harmless.
type jsonBody []byte

func newJSONBody(p *Patch) jsonBody { return p.AppendJSON(make([]byte, 0, 256)) }

func (b jsonBody) open() (io.ReadCloser, error) {
	return io.NopCloser(bytes.NewReader(b)), nil
}

func (b jsonBody) contentType() string { return "application/json" }
func (b jsonBody) length() int64       { return int64(len(b)) }

// multipartBody streams the patch and the avatar as multipart/form-data
// through an io.Pipe, so a large avatar is written straight from the
// caller's slice to the connection and never copied into a second buffer.
// The boundary is fixed per call so every attempt sends the same bytes, and
// the exact length is computed up front (without copying) so the request is
// not chunked.
type multipartBody struct {
	boundary string
	entries  []patchEntry
	avatar   Avatar
	size     int64
}

func newMultipartBody(p *Patch, a *Avatar) (*multipartBody, error) {
	m := &multipartBody{
		boundary: multipart.NewWriter(io.Discard).Boundary(),
		entries:  slices.Clone(p.entries),
		avatar:   *a,
	}
	if m.avatar.FileName == "" {
		m.avatar.FileName = "avatar"
	}
	if m.avatar.ContentType == "" {
		m.avatar.ContentType = "application/octet-stream"
	}
	var cw countingWriter
	if err := m.write(&cw); err != nil {
		return nil, err
	}
	m.size = cw.n
	return m, nil
}

func (m *multipartBody) open() (io.ReadCloser, error) {
	pr, pw := io.Pipe()
	go func() { pw.CloseWithError(m.write(pw)) }()
	return pr, nil
}

func (m *multipartBody) contentType() string {
	return "multipart/form-data; boundary=" + m.boundary
}

func (m *multipartBody) length() int64 { return m.size }

// write renders the form: every patch field as `user[field]` (sorted, as
// the Patch keeps them), then the file part `user[avatar]`.
func (m *multipartBody) write(w io.Writer) error {
	mw := multipart.NewWriter(w)
	if err := mw.SetBoundary(m.boundary); err != nil {
		return err
	}
	for _, e := range m.entries {
		if err := mw.WriteField(formName(e.field), e.value.formValue()); err != nil {
			return err
		}
	}
	h := make(textproto.MIMEHeader, 2)
	h.Set("Content-Disposition", multipart.FileContentDisposition(formName(avatarField), m.avatar.FileName))
	h.Set("Content-Type", m.avatar.ContentType)
	part, err := mw.CreatePart(h)
	if err != nil {
		return err
	}
	if _, err := part.Write(m.avatar.Data); err != nil {
		return err
	}
	return mw.Close()
}

// avatarField is the field an update's image is uploaded as.
const avatarField = "avatar"

// formName is a field's multipart name: `user[field]`, as Procore's form
// encoding nests the user's members.
func formName(field string) string { return "user[" + field + "]" }

// countingWriter counts bytes without keeping them.
type countingWriter struct{ n int64 }

func (c *countingWriter) Write(p []byte) (int, error) {
	c.n += int64(len(p))
	return len(p), nil
}
