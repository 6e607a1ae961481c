package upstream

import (
	"bytes"
	"context"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"
)

func TestNewRejectsBadBaseURL(t *testing.T) {
	for _, u := range []string{"", "ftp://x", "http://", "https://user:pw@api.procore.com", "https://api.procore.com?x=1", "::"} {
		if _, err := New(u); err == nil {
			t.Errorf("New(%q) succeeded", u)
		}
	}
}

func TestGetCompanyUserRequest(t *testing.T) {
	f := newFake(t, func(w http.ResponseWriter, r *http.Request, n int) { writeUser(w) })
	c, _, ctx := newTestClient(t, f.URL+"/", WithUserAgent("test-agent/1"))
	u, err := c.GetCompanyUser(ctx, 8089, 1001)
	if err != nil {
		t.Fatal(err)
	}
	if u.ID != 1001 {
		t.Fatalf("user %+v", u)
	}
	reqs := f.requests()
	if len(reqs) != 1 {
		t.Fatalf("%d requests", len(reqs))
	}
	r := reqs[0]
	checks := map[string][2]string{
		"method":        {r.Method, "GET"},
		"path":          {r.Path, "/rest/v1.3/companies/8089/users/1001"},
		"query":         {r.Query, ""},
		"authorization": {r.Header.Get("Authorization"), "Bearer " + testToken},
		"company":       {r.Header.Get("Procore-Company-Id"), "8089"},
		"accept":        {r.Header.Get("Accept"), "application/json"},
		"user agent":    {r.Header.Get("User-Agent"), "test-agent/1"},
		"body":          {string(r.Body), ""},
	}
	for name, c := range checks {
		if c[0] != c[1] {
			t.Errorf("%s: %q, want %q", name, c[0], c[1])
		}
	}
}

func TestUpdateCompanyUserJSON(t *testing.T) {
	f := newFake(t, func(w http.ResponseWriter, r *http.Request, n int) { writeUser(w) })
	c, _, ctx := newTestClient(t, f.URL)
	yes, no := true, false
	tests := []struct {
		name      string
		rcv       *bool
		wantQuery string
	}{{"no flag", nil, ""}, {"true", &yes, "run_configurable_validations=true"}, {"false", &no, "run_configurable_validations=false"}}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := UpdateRequest{CompanyID: 8089, UserID: 1001, RunConfigurableValidations: tt.rcv}
			req.Patch.SetString("last_name", "Díaz \"Jr\"")
			req.Patch.SetString("email_address", "ana@example.com")
			req.Patch.SetInt("vendor_id", 9007199254740993)
			req.Patch.SetBool("is_active", true)
			req.Patch.Clear("city")
			if _, err := c.UpdateCompanyUser(ctx, req); err != nil {
				t.Fatal(err)
			}
			r := f.requests()[i]
			want := `{"user":{"city":null,"email_address":"ana@example.com","is_active":true,"last_name":"Díaz \"Jr\"","vendor_id":9007199254740993}}`
			if r.Method != "PATCH" || r.Path != "/rest/v1.3/companies/8089/users/1001" || r.Query != tt.wantQuery {
				t.Errorf("%s %s?%s", r.Method, r.Path, r.Query)
			}
			if string(r.Body) != want {
				t.Errorf("body %s\nwant %s", r.Body, want)
			}
			if ct := r.Header.Get("Content-Type"); ct != "application/json" {
				t.Errorf("content type %q", ct)
			}
			if r.Header.Get("Authorization") != "Bearer "+testToken || r.Header.Get("Procore-Company-Id") != "8089" || r.Header.Get("Accept") != "application/json" {
				t.Errorf("headers %v", r.Header)
			}
		})
	}
}

func TestUpdateCompanyUserMultipart(t *testing.T) {
	f := newFake(t, func(w http.ResponseWriter, r *http.Request, n int) { writeUser(w) })
	c, _, ctx := newTestClient(t, f.URL)
	img := bytes.Repeat([]byte{0x89, 'P', 'N', 'G', 0, 1, 2, 3}, 64<<10) // 512 KiB
	req := UpdateRequest{CompanyID: 8089, UserID: 1001, Avatar: &Avatar{FileName: `me "x".png`, ContentType: "image/png", Data: img}}
	req.Patch.SetString("last_name", "Diaz")
	req.Patch.SetInt("business_phone_extension", 12)
	req.Patch.SetBool("is_employee", false)
	req.Patch.Clear("notes")
	if _, err := c.UpdateCompanyUser(ctx, req); err != nil {
		t.Fatal(err)
	}
	r := f.requests()[0]
	mt, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/form-data" {
		t.Fatalf("content type %q %v", r.Header.Get("Content-Type"), err)
	}
	if r.ContentLength != int64(len(r.Body)) || len(r.TransferEncoding) != 0 {
		t.Errorf("content length %d for %d bytes, transfer encoding %v: want a sized, unchunked body", r.ContentLength, len(r.Body), r.TransferEncoding)
	}
	mr := multipart.NewReader(bytes.NewReader(r.Body), params["boundary"])
	type part struct{ name, file, ctype, value string }
	var got []part
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(p)
		v := string(b)
		if p.FormName() == "user[avatar]" {
			if !bytes.Equal(b, img) {
				t.Errorf("avatar bytes differ (%d bytes)", len(b))
			}
			v = "<image>"
		}
		got = append(got, part{p.FormName(), p.FileName(), p.Header.Get("Content-Type"), v})
	}
	want := []part{
		{"user[business_phone_extension]", "", "", "12"},
		{"user[is_employee]", "", "", "false"},
		{"user[last_name]", "", "", "Diaz"},
		{"user[notes]", "", "", ""},
		{"user[avatar]", `me "x".png`, "image/png", "<image>"},
	}
	if len(got) != len(want) {
		t.Fatalf("parts %+v", got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("part %d: %+v, want %+v", i, got[i], want[i])
		}
	}
}

// TestMultipartBodyLength: the precomputed length matches what is written,
// and every open produces the same bytes.
func TestMultipartBodyLength(t *testing.T) {
	var p Patch
	p.SetString("first_name", "Ana")
	mb, err := newMultipartBody(&p, &Avatar{Data: []byte("GIF89a")})
	if err != nil {
		t.Fatal(err)
	}
	var first []byte
	for i := range 2 {
		rc, _ := mb.open()
		b, err := io.ReadAll(rc)
		rc.Close()
		if err != nil || int64(len(b)) != mb.length() {
			t.Fatalf("read %d bytes (%v), length says %d", len(b), err, mb.length())
		}
		if i == 0 {
			first = b
		} else if !bytes.Equal(first, b) {
			t.Fatal("attempts send different bodies")
		}
	}
	if !strings.Contains(string(first), `filename="avatar"`) || !strings.Contains(string(first), "application/octet-stream") {
		t.Fatalf("defaults missing: %s", first)
	}
}

func TestUpdateCompanyUserInvalidRequestSendsNothing(t *testing.T) {
	f := newFake(t, func(w http.ResponseWriter, r *http.Request, n int) { writeUser(w) })
	c, _, ctx := newTestClient(t, f.URL)
	tests := []struct {
		name  string
		req   UpdateRequest
		build func(p *Patch)
	}{
		{"unknown field", UpdateRequest{CompanyID: 1, UserID: 2}, func(p *Patch) { p.SetString("nickname", "x") }},
		{"wrong type", UpdateRequest{CompanyID: 1, UserID: 2}, func(p *Patch) { p.SetString("is_active", "yes") }},
		{"zero company", UpdateRequest{UserID: 2}, func(p *Patch) { p.SetString("city", "x") }},
		{"negative user", UpdateRequest{CompanyID: 1, UserID: -2}, func(p *Patch) {}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := tt.req
			tt.build(&req.Patch)
			_, err := c.UpdateCompanyUser(ctx, req)
			if e := asError(t, err); e.Kind != KindInvalidRequest || e.Op != "update company user" {
				t.Fatalf("kind %v op %q", e.Kind, e.Op)
			}
		})
	}
	if _, err := c.GetCompanyUser(ctx, 0, 1); asError(t, err).Kind != KindInvalidRequest {
		t.Fatal("GetCompanyUser(0, 1) not refused")
	}
	if n := len(f.requests()); n != 0 {
		t.Fatalf("%d requests sent", n)
	}
}

func TestPassThroughWithoutTokenSendsNothing(t *testing.T) {
	f := newFake(t, func(w http.ResponseWriter, r *http.Request, n int) { writeUser(w) })
	c, err := New(f.URL)
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.GetCompanyUser(context.Background(), 1, 2)
	if !errors.Is(err, ErrNoToken) {
		t.Fatalf("err %v, want ErrNoToken", err)
	}
	if len(f.requests()) != 0 {
		t.Fatal("a request was sent without a token")
	}
}

func TestCredentialIDs(t *testing.T) {
	cred, err := PassThrough().Credential(ContextWithToken(context.Background(), "abc"))
	if err != nil {
		t.Fatal(err)
	}
	// sha256("abc") = ba7816bf...
	if cred.ID != "token:ba7816bf" || cred.Token != "abc" {
		t.Fatalf("credential %+v", cred)
	}
}
