package upstream

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
)

// Operation names, as Error.Op reports them.
const (
	opGet    = "get company user"
	opUpdate = "update company user"
	opSync   = "sync company users"
)

// routeTemplate is what logs show instead of the concrete path, so log
// cardinality stays low and ids stay out of aggregated metrics.
const routeTemplate = "/rest/v1.3/companies/{company_id}/users/{id}"

// call is one logical operation as its builder made it: the call loop
// (do) sends it, as often as the retry policy allows, and a preview
// describes it without sending it. Nothing after the builder changes what
// a call sends.
type call struct {
	op     string
	method string
	// route is the path's template, for logs, spans and metrics.
	route     string
	companyID int64
	userID    int64
	// action, when set, names the path's last segment in place of userID
	// (users/sync).
	action string
	query  string
	body   requestBody // nil for GET
	// answer says how a 2xx body decodes.
	answer answerKind
	// maxBody caps the answer's body; 0 is the client's cap.
	maxBody int64
}

// answerKind says what a call's 2xx body holds.
type answerKind uint8

const (
	answerUser answerKind = iota // a user (show, update)
	answerSync                   // a sync's entities and errors
)

// idempotent reports whether any failure may be retried.
func (cl *call) idempotent() bool { return cl.method == http.MethodGet }

// buildGet is the request of GetCompanyUser.
func buildGet(companyID, userID int64) (call, *Error) {
	if err := checkIDs(companyID, userID); err != nil {
		return call{}, &Error{Op: opGet, Kind: KindInvalidRequest, Message: err.Error()}
	}
	return call{op: opGet, method: http.MethodGet, route: routeTemplate, companyID: companyID, userID: userID}, nil
}

// buildUpdate is the one builder of an update's request:
// UpdateCompanyUser sends what it returns and PreviewUpdate describes it,
// so the preview is what would be sent by construction. Every check that
// refuses an update before anything is sent happens here. The call is
// returned by value so that it stays on the caller's stack.
func buildUpdate(req UpdateRequest, writable map[string]ValueKind) (call, *Error) {
	if e := checkUpdate(opUpdate, req, writable); e != nil {
		return call{}, e
	}
	cl := call{op: opUpdate, method: http.MethodPatch, route: routeTemplate,
		companyID: req.CompanyID, userID: req.UserID, query: updateQuery(req)}
	if req.Avatar == nil {
		cl.body = newJSONBody(&req.Patch)
		return cl, nil
	}
	mb, err := newMultipartBody(&req.Patch, req.Avatar)
	if err != nil {
		return call{}, &Error{Op: opUpdate, Kind: KindInvalidRequest, Message: "cannot encode the multipart body", Err: err}
	}
	cl.body = mb
	return cl, nil
}

// checkUpdate refuses an update that must not be sent: ids that are not
// positive, a field that is not writable or a value of the wrong type. The
// single update and a sync item share it, so they refuse the same updates.
func checkUpdate(op string, req UpdateRequest, writable map[string]ValueKind) *Error {
	if err := checkIDs(req.CompanyID, req.UserID); err != nil {
		return &Error{Op: op, Kind: KindInvalidRequest, Message: err.Error()}
	}
	if err := req.Patch.validate(writable); err != nil {
		return &Error{Op: op, Kind: KindInvalidRequest, Message: err.Error()}
	}
	return nil
}

func checkIDs(companyID, userID int64) error {
	if companyID <= 0 || userID <= 0 {
		return errors.New("company id and user id must be positive")
	}
	return nil
}

// updateQuery is an update's query string.
func updateQuery(req UpdateRequest) string {
	if v := req.RunConfigurableValidations; v != nil {
		return "run_configurable_validations=" + strconv.FormatBool(*v)
	}
	return ""
}

// writePath writes the call's path, without the base URL.
func (cl *call) writePath(b *strings.Builder) {
	b.WriteString("/rest/v1.3/companies/")
	b.WriteString(strconv.FormatInt(cl.companyID, 10))
	b.WriteString("/users/")
	if cl.action != "" {
		b.WriteString(cl.action)
		return
	}
	b.WriteString(strconv.FormatInt(cl.userID, 10))
}

// bodyCap is how much of the call's answer is read.
func (c *Client) bodyCap(cl *call) int64 {
	if cl.maxBody > 0 {
		return cl.maxBody
	}
	return c.maxResponseBytes
}

// path is the call's path, without the base URL (for a preview).
func (cl *call) path() string {
	var b strings.Builder
	cl.writePath(&b)
	return b.String()
}

// url is the call's full URL: the base, the path and the query.
func (c *Client) url(cl *call) string {
	var b strings.Builder
	b.Grow(len(c.base) + 64)
	b.WriteString(c.base)
	cl.writePath(&b)
	if cl.query != "" {
		b.WriteString("?")
		b.WriteString(cl.query)
	}
	return b.String()
}

// newRequest is one attempt's HTTP request for the call, with the
// credential's token; each attempt opens the body afresh.
func (c *Client) newRequest(ctx context.Context, cl *call, cred Credential) (*http.Request, error) {
	var body io.ReadCloser
	if cl.body != nil {
		var err error
		if body, err = cl.body.open(); err != nil {
			return nil, err
		}
	}
	req, err := http.NewRequestWithContext(ctx, cl.method, c.url(cl), body)
	if err != nil {
		if body != nil {
			body.Close()
		}
		return nil, err
	}
	if cl.body != nil {
		req.ContentLength = cl.body.length()
		req.GetBody = cl.body.open
		req.Header.Set("Content-Type", cl.body.contentType())
	}
	req.Header.Set("Authorization", "Bearer "+cred.Token)
	req.Header.Set("Procore-Company-Id", strconv.FormatInt(cl.companyID, 10))
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", c.userAgent)
	return req, nil
}
