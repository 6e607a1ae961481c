package procoretest

import (
	"bytes"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestMultipartUpdate(t *testing.T) {
	required := [][2]string{{"user[last_name]", "Okafor"}, {"user[email_address]", "maria.okafor@summitridge.example"}}
	with := func(extra ...[2]string) [][2]string { return append(append([][2]string{}, required...), extra...) }
	gif := append([]byte("GIF89a"), make([]byte, 10)...)
	jpeg := append([]byte{0xFF, 0xD8, 0xFF, 0xE0}, make([]byte, 10)...)
	tests := []struct {
		name       string
		fields     [][2]string
		files      []mpFile
		wantStatus int
		wantBody   string         // exact, when set
		want       map[string]any // fields of the 200 answer
	}{
		{name: "fields typed from text", fields: with([2]string{"user[is_active]", "false"}, [2]string{"user[business_phone_extension]", "42"}, [2]string{"user[vendor_id]", "301"}, [2]string{"user[job_title]", "Chef"}),
			wantStatus: 200, want: map[string]any{"is_active": false, "business_phone_extension": 42.0, "vendor_id": 301.0, "job_title": "Chef"}},
		{name: "empty value clears", fields: with([2]string{"user[notes]", ""}, [2]string{"user[business_phone_extension]", ""}), wantStatus: 200, want: map[string]any{"notes": nil, "business_phone_extension": nil}},
		{name: "bad boolean", fields: with([2]string{"user[is_active]", "maybe"}), wantStatus: 422, wantBody: `{"errors":{"is_active":["is invalid"]}}`},
		{name: "bad integer", fields: with([2]string{"user[vendor_id]", "30x"}), wantStatus: 422, wantBody: `{"errors":{"vendor_id":["is invalid"]}}`},
		{name: "missing required", fields: [][2]string{{"user[last_name]", "Okafor"}}, wantStatus: 400, wantBody: `{"errors":{"email_address":["can't be blank"]}}`},
		{name: "no user params", fields: [][2]string{{"last_name", "Okafor"}}, wantStatus: 400, wantBody: `{"errors":{"user":["is missing"]}}`},
		{name: "png avatar", fields: required, files: []mpFile{{"user[avatar]", "me.png", "image/png", pngBytes(100)}}, wantStatus: 200},
		{name: "gif avatar", fields: required, files: []mpFile{{"user[avatar]", "me.gif", "image/gif", gif}}, wantStatus: 200},
		{name: "jpeg avatar, lying content type", fields: required, files: []mpFile{{"user[avatar]", "me.bin", "application/octet-stream", jpeg}}, wantStatus: 200},
		{name: "not an image", fields: required, files: []mpFile{{"user[avatar]", "me.png", "image/png", []byte("<svg/>")}}, wantStatus: 422, wantBody: `{"errors":{"avatar":["must be a JPEG, PNG or GIF image"]}}`},
		{name: "exactly 10 MiB", fields: required, files: []mpFile{{"user[avatar]", "big.png", "image/png", pngBytes(10 << 20)}}, wantStatus: 200},
		{name: "over 10 MiB", fields: required, files: []mpFile{{"user[avatar]", "big.png", "image/png", pngBytes(10<<20 + 1)}}, wantStatus: 422, wantBody: `{"errors":{"avatar":["is too big (should be at most 10 MB)"]}}`},
		{name: "empty avatar value clears", fields: with([2]string{"user[avatar]", ""}), wantStatus: 200, want: map[string]any{"avatar": nil}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEmu(t, WithResponseShape(ResponseShapeExtended)) // vendor_id is not in the published shape
			body, ct := multipartBody(t, tc.fields, tc.files...)
			w := do(t, e, call{method: "PATCH", path: userPath(summit, 1001), token: mustToken(t, e, adminClient), contentType: ct, body: body})
			if w.Code != tc.wantStatus {
				t.Fatalf("status %d, want %d: %s", w.Code, tc.wantStatus, w.Body)
			}
			if tc.wantBody != "" && w.Body.String() != tc.wantBody {
				t.Errorf("body %s, want %s", w.Body, tc.wantBody)
			}
			if w.Code == 200 {
				u := decode(t, w.Body.Bytes())
				for k, v := range tc.want {
					if !equalJSON(u[k], v) {
						t.Errorf("%s = %#v, want %#v", k, u[k], v)
					}
				}
				if len(tc.files) > 0 {
					if s, _ := u["avatar"].(string); !strings.Contains(s, "/_emulator/avatars/8089/1001/") || !strings.Contains(s, "signature=") {
						t.Errorf("avatar URL %v", u["avatar"])
					}
				}
			}
			// The log has the form, never the raw bytes.
			rec := e.Requests()[0]
			if rec.Form == nil || rec.RawBody != "" || rec.Body != nil {
				t.Fatalf("multipart log entry %+v", rec)
			}
			for _, f := range tc.fields {
				if rec.Form.Fields[f[0]] != f[1] {
					t.Errorf("logged field %s = %q", f[0], rec.Form.Fields[f[0]])
				}
			}
			if len(rec.Form.Files) != len(tc.files) {
				t.Fatalf("logged files %+v", rec.Form.Files)
			}
			for i, f := range tc.files {
				got := rec.Form.Files[i]
				if got.Field != f.field || got.Filename != f.filename || got.ContentType != f.contentType || got.Size != int64(len(f.data)) {
					t.Errorf("logged file %+v, want %s %s %s %d", got, f.field, f.filename, f.contentType, len(f.data))
				}
			}
		})
	}
}

func TestURLEncodedUpdate(t *testing.T) {
	e := newEmu(t)
	body := "user%5Blast_name%5D=Okafor&user%5Bemail_address%5D=maria.okafor%40summitridge.example&user%5Bcity%5D=Salem"
	w := do(t, e, call{method: "PATCH", path: userPath(summit, 1001), token: mustToken(t, e, adminClient), contentType: "application/x-www-form-urlencoded", body: []byte(body)})
	if w.Code != 200 || decode(t, w.Body.Bytes())["city"] != "Salem" {
		t.Fatalf("%d %s", w.Code, w.Body)
	}
}

// TestAvatarURL uploads over loopback and fetches the signed URL, which
// expires an hour later by the emulator's clock.
func TestAvatarURL(t *testing.T) {
	clock := newClock()
	s := NewServer(t, WithClock(clock.Now))
	img := pngBytes(64)
	body, ct := multipartBody(t, [][2]string{{"user[last_name]", "Okafor"}, {"user[email_address]", "maria.okafor@summitridge.example"}},
		mpFile{"user[avatar]", "a.png", "image/png", img})
	req, _ := http.NewRequest(http.MethodPatch, s.URL+userPath(summit, 1001), bytes.NewReader(body))
	req.Header.Set("Content-Type", ct)
	req.Header.Set("Authorization", "Bearer "+mustToken(t, s.Emulator, adminClient))
	req.Header.Set("Procore-Company-Id", "8089")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	avatar, _ := decode(t, raw)["avatar"].(string)
	if !strings.HasPrefix(avatar, s.URL+"/_emulator/avatars/") {
		t.Fatalf("avatar %q not on the emulator host %s", avatar, s.URL)
	}
	fetch := func(u string) (int, []byte) {
		resp, err := http.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, b
	}
	if code, b := fetch(avatar); code != 200 || !bytes.Equal(b, img) {
		t.Fatalf("fetch avatar: %d, %d bytes", code, len(b))
	}
	if code, _ := fetch(strings.Replace(avatar, "signature=", "signature=0", 1)); code != 403 {
		t.Errorf("tampered signature: %d", code)
	}
	clock.Advance(time.Hour)
	if code, _ := fetch(avatar); code != 403 {
		t.Errorf("expired URL: %d", code)
	}
}
