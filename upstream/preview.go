package upstream

import (
	"encoding/json"
	"strconv"
	"unicode/utf8"
)

// RequestPreview describes the request UpdateCompanyUser (PreviewUpdate)
// or SyncCompanyUsers (PreviewSync) would send, without sending it: a
// validate_only update (AIP-163) shows it to the caller, so "what would
// this send to Procore?" has an exact answer. It is built by the same code that builds the real request (the
// query, the JSON body's bytes, the form fields), and its JSON shape is the
// emulator's request log (procoretest.Request), so a test can compare the
// two field by field.
type RequestPreview struct {
	Method string `json:"method"`
	// Path is the request's path, without the base URL.
	Path string `json:"path"`
	// Query is the raw query string ("" for none).
	Query string `json:"query"`
	// CompanyID is the Procore-Company-Id header.
	CompanyID string `json:"company_id"`
	// ContentType is the body's media type (a multipart boundary is made up
	// per request, so it is left out).
	ContentType string `json:"content_type"`
	// Body is the exact JSON body, for a JSON request.
	Body json.RawMessage `json:"body,omitempty"`
	// Form is the multipart body, for an update with an avatar: the fields
	// and the file part without its bytes.
	Form *PreviewForm `json:"form,omitempty"`
}

// PreviewForm is a multipart body as a preview shows it.
type PreviewForm struct {
	Fields map[string]string `json:"fields"`
	Files  []PreviewFile     `json:"files"`
}

// PreviewFile describes the avatar file part; its bytes are not repeated.
type PreviewFile struct {
	Field       string `json:"field"`
	Filename    string `json:"filename"`
	ContentType string `json:"content_type"`
	Size        int64  `json:"size"`
}

// PreviewUpdate returns the request UpdateCompanyUser would send for req,
// or the same *Error it would fail with before sending anything: both take
// the request from one builder (buildUpdate), and the preview only
// describes what it built.
func PreviewUpdate(req UpdateRequest) (*RequestPreview, error) {
	cl, e := buildUpdate(req, writableKinds())
	if e != nil {
		return nil, e
	}
	return previewOf(&cl), nil
}

// previewOf describes a built call: its method, path, query, company
// header and body, as the call loop would send them.
func previewOf(cl *call) *RequestPreview {
	p := &RequestPreview{
		Method:    cl.method,
		Path:      cl.path(),
		Query:     cl.query,
		CompanyID: strconv.FormatInt(cl.companyID, 10),
	}
	switch b := cl.body.(type) {
	case jsonBody:
		p.ContentType = b.contentType()
		p.Body = json.RawMessage(b)
	case *multipartBody:
		p.ContentType = "multipart/form-data"
		p.Form = &PreviewForm{Fields: make(map[string]string, len(b.entries))}
		for _, e := range b.entries {
			p.Form.Fields[formName(e.field)] = e.value.formValue()
		}
		p.Form.Files = []PreviewFile{{Field: formName(avatarField), Filename: b.avatar.FileName,
			ContentType: b.avatar.ContentType, Size: int64(len(b.avatar.Data))}}
	}
	return p
}

// ASCIIJSON returns v as JSON with every non-ASCII character escaped
// (\uXXXX), so that it is a valid gRPC metadata value and HTTP header
// value whatever names the body carries.
func ASCIIJSON(v any) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	out := make([]byte, 0, len(b))
	for len(b) > 0 {
		r, size := utf8.DecodeRune(b)
		b = b[size:]
		switch {
		case r < utf8.RuneSelf:
			out = append(out, byte(r))
		case r > 0xFFFF:
			r -= 0x10000
			out = appendU(appendU(out, 0xD800+(r>>10)), 0xDC00+(r&0x3FF))
		default:
			out = appendU(out, r)
		}
	}
	return out, nil
}

func appendU(dst []byte, r rune) []byte {
	const hex = "0123456789abcdef"
	return append(dst, '\\', 'u', hex[r>>12&0xF], hex[r>>8&0xF], hex[r>>4&0xF], hex[r&0xF])
}
