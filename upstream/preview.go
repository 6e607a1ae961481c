package upstream

import (
	"encoding/json"
	"net/http"
	"strconv"
	"unicode/utf8"
)

// RequestPreview describes the request UpdateCompanyUser would send for an
// UpdateRequest, without sending it: a validate_only update (AIP-163) shows
// it to the caller, so "what would this send to Procore?" has an exact
// answer. It is built by the same code that builds the real request (the
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
// or the same *Error it would fail with before sending anything.
func PreviewUpdate(req UpdateRequest) (*RequestPreview, error) {
	if err := checkIDs(req.CompanyID, req.UserID); err != nil {
		return nil, &Error{Op: opUpdate, Kind: KindInvalidRequest, Message: err.Error()}
	}
	if err := req.Patch.validate(writableKinds()); err != nil {
		return nil, &Error{Op: opUpdate, Kind: KindInvalidRequest, Message: err.Error()}
	}
	p := &RequestPreview{
		Method:    http.MethodPatch,
		Path:      requestPath(req.CompanyID, req.UserID),
		Query:     updateQuery(req),
		CompanyID: strconv.FormatInt(req.CompanyID, 10),
	}
	if req.Avatar == nil {
		p.ContentType = "application/json"
		p.Body = req.Patch.AppendJSON(nil)
		return p, nil
	}
	mb, err := newMultipartBody(&req.Patch, req.Avatar)
	if err != nil {
		return nil, &Error{Op: opUpdate, Kind: KindInvalidRequest, Message: "cannot encode the multipart body", Err: err}
	}
	p.ContentType = "multipart/form-data"
	p.Form = &PreviewForm{Fields: make(map[string]string, len(mb.entries))}
	for _, e := range mb.entries {
		p.Form.Fields["user["+e.field+"]"] = e.value.formValue()
	}
	p.Form.Files = []PreviewFile{{Field: "user[avatar]", Filename: mb.avatar.FileName, ContentType: mb.avatar.ContentType, Size: int64(len(mb.avatar.Data))}}
	return p, nil
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

// requestPath is the path of a company user's resource.
func requestPath(companyID, userID int64) string {
	return "/rest/v1.3/companies/" + strconv.FormatInt(companyID, 10) + "/users/" + strconv.FormatInt(userID, 10)
}

// updateQuery is an update's query string.
func updateQuery(req UpdateRequest) string {
	if v := req.RunConfigurableValidations; v != nil {
		return "run_configurable_validations=" + strconv.FormatBool(*v)
	}
	return ""
}
