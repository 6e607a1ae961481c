package procoretest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// route is a matched directory route.
type route struct {
	companyPath string // company_id as written in the path
	companyID   int64
	userID      int64 // 0 for the index route
	action      string
}

const (
	actionShow   = "show"
	actionIndex  = "index"
	actionUpdate = "update"
	actionSync   = "sync"
)

// matchRoute recognises the four directory routes; anything else is a
// routing error (404) answered before authentication, as Rails does.
func matchRoute(r *http.Request) (route, bool) {
	rest, ok := strings.CutPrefix(r.URL.Path, "/rest/v1.3/companies/")
	if !ok {
		return route{}, false
	}
	parts := strings.Split(rest, "/")
	if len(parts) < 2 || len(parts) > 3 || parts[1] != "users" {
		return route{}, false
	}
	cid, err := strconv.ParseInt(parts[0], 10, 64)
	if err != nil || cid <= 0 {
		return route{}, false
	}
	rt := route{companyPath: parts[0], companyID: cid}
	if len(parts) == 2 || (len(parts) == 3 && parts[2] == "") {
		if r.Method != http.MethodGet {
			return route{}, false
		}
		rt.action = actionIndex
		return rt, true
	}
	if parts[2] == "sync" {
		if r.Method != http.MethodPatch {
			return route{}, false
		}
		rt.action = actionSync
		return rt, true
	}
	uid, err := strconv.ParseInt(parts[2], 10, 64)
	if err != nil || uid <= 0 {
		return route{}, false
	}
	rt.userID = uid
	switch r.Method {
	case http.MethodGet:
		rt.action = actionShow
	case http.MethodPatch, http.MethodPut:
		rt.action = actionUpdate
	default:
		return route{}, false
	}
	return rt, true
}

// serveAPI runs faults, then the application, records and answers.
func (e *Emulator) serveAPI(w http.ResponseWriter, r *http.Request, reqID string) {
	rec := Request{
		Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery,
		CompanyID: r.Header.Get("Procore-Company-Id"), ContentType: r.Header.Get("Content-Type"),
		Traceparent: r.Header.Get("Traceparent"), RequestID: reqID,
	}
	if t, problem := e.lookupToken(r); problem == "" {
		rec.ClientID = t.client.ClientID
	}
	fault, latency := e.nextFault()
	if latency > 0 && !sleepCtx(r.Context(), latency) {
		e.record(rec)
		return
	}
	switch fault.Kind {
	case FaultKindDropBeforeBody:
		e.record(rec)
		drop(w)
		return
	case FaultKindDelay:
		if !sleepCtx(r.Context(), fault.Delay) {
			e.record(rec)
			return
		}
	case FaultKindStall:
		defer e.stalls.Done() // added by Script
	case FaultKindStatus:
		body, _ := readBody(r)
		rec.fillBody(body)
		rep := statusFaultReply(fault)
		rec.Status = rep.status
		e.record(rec)
		rep.write(w)
		return
	}
	body, err := readBody(r)
	if fault.Kind == FaultKindStall {
		// Procore keeps working on a request its client gave up on.
		t := time.NewTimer(fault.Delay)
		<-t.C
		r = r.WithContext(context.WithoutCancel(r.Context()))
	}
	var rep *reply
	if err != nil {
		rep = errorsReply(http.StatusRequestEntityTooLarge, "Request body too large")
	} else {
		rec.fillBody(body)
		rep = e.handleApp(r, body, fault.Kind == FaultKindApplyHalfThenStatus)
		rec.Applied = rep.applied
	}
	switch fault.Kind {
	case FaultKindDropAfterApply:
		e.record(rec)
		drop(w)
		return
	case FaultKindMalformed:
		rep = malformed(rep)
	case FaultKindApplyThenStatus, FaultKindApplyHalfThenStatus:
		rep = errorReply(fault.Status)
	}
	rec.Status = rep.status
	e.record(rec)
	rep.write(w)
}

func statusFaultReply(f Fault) *reply {
	if f.ContentType == "" && f.Body == "" && f.Header == nil {
		return errorReply(f.Status)
	}
	rep := &reply{status: f.Status, body: []byte(f.Body), hdr: f.Header.Clone()}
	if f.ContentType != "" {
		rep.header().Set("Content-Type", f.ContentType)
	}
	return rep
}

// malformed turns an answer into a 200 whose JSON body is cut in half.
func malformed(rep *reply) *reply {
	body := rep.body
	if len(body) < 4 {
		body = []byte(`{"id":1,"first_name":"`)
	}
	out := jsonReply(http.StatusOK, slices.Clone(body[:len(body)/2]))
	for k, v := range rep.hdr {
		if k != "Content-Type" {
			out.header()[k] = v
		}
	}
	return out
}

// drop closes the connection with no answer, via http.Hijacker; where the
// writer cannot be hijacked (HTTP/2, ResponseRecorder) it aborts the
// handler, which net/http turns into a reset stream or closed connection.
func drop(w http.ResponseWriter) {
	if hj, ok := w.(http.Hijacker); ok {
		if conn, _, err := hj.Hijack(); err == nil {
			_ = conn.Close()
			return
		}
	}
	panic(http.ErrAbortHandler)
}

func sleepCtx(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return true
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

func readBody(r *http.Request) ([]byte, error) {
	if r.Body == nil {
		return nil, nil
	}
	b, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if err != nil {
		return nil, fmt.Errorf("read body: %w", err)
	}
	if len(b) > maxBody {
		return nil, errors.New("read body: too large")
	}
	return b, nil
}

// fillBody records the body: raw bytes (and JSON when valid) or, for
// multipart, the parsed fields and file descriptions.
func (rec *Request) fillBody(body []byte) {
	if len(body) == 0 {
		return
	}
	kind, params := classify(rec.ContentType)
	if kind == bodyMultipart {
		if f, err := parseMultipartBody(body, params["boundary"]); err == nil {
			rec.Form = f.logForm()
			return
		}
	}
	rec.RawBody = string(body)
	if json.Valid(body) {
		rec.Body = json.RawMessage(slices.Clone(body))
	}
}

// handleApp is the Rails application: auth, rate limit, company header,
// company, access, then the action. With ErrorBodyFlat its 400, 401 and
// 403 answers are rewritten into the published flat shape here, in one place.
// half is the FaultApplyHalfThenStatus fault: only the first half of a
// sync's items is processed, and a single update is not applied.
func (e *Emulator) handleApp(r *http.Request, body []byte, half bool) *reply {
	rep := e.app(r, body, half)
	if e.cfg.errorBody == ErrorBodyFlat {
		return flatten(rep)
	}
	return rep
}

func (e *Emulator) app(r *http.Request, body []byte, half bool) *reply {
	rt, ok := matchRoute(r)
	if !ok || (rt.action == actionSync && e.syncMode() == SyncAbsent) {
		return notFoundReply()
	}
	t, problem := e.lookupToken(r)
	if problem != "" {
		return invalidTokenReply(problem)
	}
	st := t.take(e.now(), e.cfg.hourlyLimit, e.cfg.spikeLimit)
	rep := e.authorized(r, rt, t, st, body, half)
	st.apply(rep.header())
	return rep
}

func (e *Emulator) authorized(r *http.Request, rt route, t *token, st rateState, body []byte, half bool) *reply {
	if st.exceeded {
		return textReply(http.StatusTooManyRequests, rateLimitedText)
	}
	hdr, present := r.Header["Procore-Company-Id"]
	if !present || len(hdr) == 0 || strings.TrimSpace(hdr[0]) == "" {
		return withFlat(textReply(http.StatusBadRequest, "Missing Procore-Company-Id header!"), reasonMissingCompanyHeader, "Missing Procore-Company-Id header!")
	}
	if hid, err := strconv.ParseInt(strings.TrimSpace(hdr[0]), 10, 64); err != nil || hid != rt.companyID {
		const msg = "Procore-Company-Id header does not match the company in the path"
		return withFlat(errorsReply(http.StatusForbidden, msg), reasonCompanyMismatch, msg)
	}
	e.mu.RLock()
	c := e.dir.companies[rt.companyID]
	if c == nil {
		e.mu.RUnlock()
		return notFoundReply()
	}
	if !slices.Contains(t.client.CompanyIDs, rt.companyID) {
		e.mu.RUnlock()
		return withFlat(textReply(http.StatusForbidden, "App is not connected to this company"), reasonAppNotConnected, "App is not connected to this company")
	}
	switch rt.action {
	case actionSync:
		e.mu.RUnlock()
		return e.sync(rt, t.client, r.Header.Get("Content-Type"), body, half)
	case actionIndex:
		defer e.mu.RUnlock()
		return e.index(r, c)
	case actionShow:
		defer e.mu.RUnlock()
		u := c.users[rt.userID]
		if u == nil {
			return notFoundReply()
		}
		return jsonReply(http.StatusOK, e.fields.renderUser(make([]byte, 0, 1536), c, u, viewShow, e.cfg.responseShape))
	}
	exists := c.users[rt.userID] != nil
	e.mu.RUnlock()
	if !exists {
		return notFoundReply()
	}
	if half { // half of one item is none; the fault replaces the answer
		return &reply{status: http.StatusInternalServerError}
	}
	return e.update(r, rt, t.client, body)
}

// index is GET .../users with page and per_page, the Total, Per-Page and
// Link headers of Procore's pagination guide, and two filters:
// filters[origin_id] (published) and filters[id][] (modelled: the
// read-back of a sync chunk), both applied before paging.
func (e *Emulator) index(r *http.Request, c *company) *reply {
	q := r.URL.Query()
	page := positiveInt(q.Get("page"), 1)
	perPage := min(positiveInt(q.Get("per_page"), 100), 1000)
	ids := listFilter(c, q)
	b := make([]byte, 0, 1024*min(perPage, len(ids)+1))
	b = append(b, '[')
	start := (page - 1) * perPage
	for i := start; i < len(ids) && i < start+perPage && start >= 0; i++ {
		if i > start {
			b = append(b, ',')
		}
		b = e.fields.renderUser(b, c, c.users[ids[i]], viewList, ResponseShapeExtended)
	}
	b = append(b, ']')
	rep := jsonReply(http.StatusOK, b)
	rep.header().Set("Total", strconv.Itoa(len(ids)))
	rep.header().Set("Per-Page", strconv.Itoa(perPage))
	if link := pageLinks(r, page, perPage, len(ids)); link != "" {
		rep.header().Set("Link", link)
	}
	return rep
}

// listFilter returns the ids of the company's users the index filters
// keep, ascending. An id filter whose values are all malformed keeps no
// user rather than every user.
func listFilter(c *company, q url.Values) []int64 {
	idVals, byID := q["filters[id][]"]
	if more, ok := q["filters[id]"]; ok {
		idVals, byID = append(idVals, more...), true
	}
	origin, byOrigin := q["filters[origin_id]"]
	if !byID && !byOrigin {
		return c.order
	}
	want := make(map[int64]bool, len(idVals))
	for _, v := range idVals {
		for part := range strings.SplitSeq(v, ",") {
			if id, err := strconv.ParseInt(strings.TrimSpace(part), 10, 64); err == nil {
				want[id] = true
			}
		}
	}
	var out []int64
	for _, id := range c.order {
		if byID && !want[id] {
			continue
		}
		if byOrigin {
			if o, _ := c.users[id].fields["origin_id"].(string); o == "" || !slices.Contains(origin, o) {
				continue
			}
		}
		out = append(out, id)
	}
	return out
}

// pageLinks is the Link header of Procore's pagination guide: first and
// prev from page 3 on (page 2 has first only: its prev is the first),
// next and last before the last page; "" for a single page.
func pageLinks(r *http.Request, page, perPage, total int) string {
	last := max((total+perPage-1)/perPage, 1)
	link := func(p int, rel string) string {
		q := r.URL.Query()
		q.Set("page", strconv.Itoa(p))
		q.Set("per_page", strconv.Itoa(perPage))
		u := url.URL{Scheme: "http", Host: r.Host, Path: r.URL.Path, RawQuery: q.Encode()}
		if r.TLS != nil {
			u.Scheme = "https"
		}
		return "<" + u.String() + `>; rel="` + rel + `"`
	}
	var parts []string
	if page > 1 {
		parts = append(parts, link(1, "first"))
	}
	if page > 2 {
		parts = append(parts, link(min(page-1, last), "prev"))
	}
	if page < last {
		parts = append(parts, link(last, "last"), link(page+1, "next"))
	}
	return strings.Join(parts, ", ")
}

func positiveInt(s string, def int) int {
	n, err := strconv.Atoi(s)
	if err != nil || n <= 0 || n > 1<<30 {
		return def
	}
	return n
}

// decodeChanges parses the PATCH body by content type (400 on failure).
func decodeChanges(ft *fieldTable, contentType string, body []byte) (*changeSet, *reply) {
	kind, params := classify(contentType)
	var cs *changeSet
	switch kind {
	case bodyJSON:
		if len(bytes.TrimSpace(body)) == 0 {
			break
		}
		var err error
		cs, err = decodeJSONChanges(ft, body)
		if err != nil {
			return nil, invalidJSONReply(err)
		}
	case bodyMultipart, bodyURLEncoded:
		var f *parsedForm
		var err error
		if kind == bodyMultipart {
			f, err = parseMultipartBody(body, params["boundary"])
		} else {
			f, err = parseURLEncodedBody(body)
		}
		if err != nil {
			msg := "Invalid form body: " + err.Error()
			return nil, withFlat(errorsReply(http.StatusBadRequest, msg), reasonInvalidForm, msg)
		}
		cs = decodeFormChanges(ft, f)
	}
	if cs == nil {
		return nil, withFlat(errorsReply(http.StatusBadRequest, map[string][]string{"user": {"is missing"}}), reasonMissingParameter, "user is missing", "user")
	}
	return cs, nil
}

// invalidJSONReply is the 400 of a body that is not JSON, for the single
// update and sync alike.
func invalidJSONReply(err error) *reply {
	msg := "There was a problem in the JSON you submitted: " + err.Error()
	return withFlat(errorsReply(http.StatusBadRequest, msg), reasonInvalidJSON, msg)
}
