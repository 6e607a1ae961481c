package procoretest

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
)

func TestRequestLogOverHTTP(t *testing.T) {
	s := NewServer(t)
	tok := mustToken(t, s.Emulator, fieldClient)
	body := `{"user":{"last_name":"Okafor","email_address":"maria.okafor@summitridge.example","extra":1}}`
	req, _ := http.NewRequest(http.MethodPatch, s.URL+userPath(summit, 1001)+"?run_configurable_validations=true", strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("Procore-Company-Id", "8089")
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	// A non-JSON body is kept raw only; an unauthenticated request has no client.
	req2, _ := http.NewRequest(http.MethodPatch, s.URL+userPath(summit, 1002), strings.NewReader("not json"))
	req2.Header.Set("Content-Type", "text/plain")
	resp2, err := http.DefaultClient.Do(req2)
	if err != nil {
		t.Fatal(err)
	}
	resp2.Body.Close()

	get := func() []Request {
		resp, err := http.Get(s.URL + "/_emulator/requests")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		raw, _ := io.ReadAll(resp.Body)
		if strings.Contains(string(raw), tok) {
			t.Fatal("the log contains the bearer token")
		}
		var reqs []Request
		if err := json.Unmarshal(raw, &reqs); err != nil {
			t.Fatalf("%v: %s", err, raw)
		}
		return reqs
	}
	reqs := get()
	if len(reqs) != 2 {
		t.Fatalf("%d entries: %+v", len(reqs), reqs)
	}
	r := reqs[0]
	want := Request{Method: "PATCH", Path: "/rest/v1.3/companies/8089/users/1001", Query: "run_configurable_validations=true", CompanyID: "8089",
		ContentType: "application/json", ClientID: fieldClient, Traceparent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", Status: 200, RawBody: body}
	if r.Method != want.Method || r.Path != want.Path || r.Query != want.Query || r.CompanyID != want.CompanyID || r.ContentType != want.ContentType ||
		r.ClientID != want.ClientID || r.Traceparent != want.Traceparent || r.Status != want.Status || r.RawBody != want.RawBody || !bytes.Equal(r.Body, []byte(body)) || r.RequestID == "" {
		t.Errorf("entry %+v\nwant  %+v", r, want)
	}
	if r2 := reqs[1]; r2.ClientID != "" || r2.CompanyID != "" || r2.Body != nil || r2.RawBody != "not json" || r2.Status != 401 {
		t.Errorf("second entry %+v", r2)
	}
	del, _ := http.NewRequest(http.MethodDelete, s.URL+"/_emulator/requests", nil)
	resp, err = http.DefaultClient.Do(del)
	if err != nil || resp.StatusCode != http.StatusNoContent {
		t.Fatalf("DELETE: %v %v", resp.StatusCode, err)
	}
	resp.Body.Close()
	if reqs := get(); len(reqs) != 0 {
		t.Fatalf("after DELETE: %+v", reqs)
	}
	resp, _ = http.Get(s.URL + "/_emulator/nothing")
	if resp.StatusCode != 404 {
		t.Errorf("unknown control route: %d", resp.StatusCode)
	}
	resp.Body.Close()
}

func TestRequestLogBounded(t *testing.T) {
	e := newEmu(t, WithRequestLogSize(3))
	for _, uid := range []int64{1, 2, 3, 4, 5} {
		do(t, e, call{method: "GET", path: userPath(summit, uid)})
	}
	reqs := e.Requests()
	if len(reqs) != 3 || reqs[0].Path != userPath(summit, 3) || reqs[2].Path != userPath(summit, 5) {
		t.Fatalf("%+v", reqs)
	}
	reqs[0].Path = "changed"
	if e.Requests()[0].Path == "changed" {
		t.Error("Requests returned the internal slice")
	}
	e.ResetRequests()
	if len(e.Requests()) != 0 {
		t.Error("ResetRequests kept entries")
	}
}
