package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"mime"
	"net/http"
	"strings"
	"testing"

	"github.com/google/uuid"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/fieldmaskpb"

	directoryv1 "github.com/procore-directory/procore-directory/gen/procore/directory/v1"
	"github.com/procore-directory/procore-directory/service"
	"github.com/procore-directory/procore-directory/service/apierr"
	"github.com/procore-directory/procore-directory/upstream/procoretest"
)

// procoreRequestPreview is the JSON of the x-procore-request metadata and
// the X-Procore-Request header: its requests have the emulator's request log
// shape, so they compare field by field with what the emulator received.
type procoreRequestPreview struct {
	Request   *procoretest.Request `json:"request"`
	IfRefused *procoretest.Request `json:"if_refused"`
	Note      string               `json:"note"`
}

func decodePreview(t *testing.T, raw string) procoreRequestPreview {
	t.Helper()
	if raw == "" {
		t.Fatal("no request preview in the answer")
	}
	for _, c := range []byte(raw) {
		if c < 0x20 || c > 0x7e {
			t.Fatalf("preview %q is not printable ASCII: not a valid metadata value", raw)
		}
	}
	var p procoreRequestPreview
	if err := json.Unmarshal([]byte(raw), &p); err != nil {
		t.Fatalf("preview %q: %v", raw, err)
	}
	return p
}

// sameRequest fails unless the emulator received exactly the previewed
// request: method, path, query, company header, media type and body.
func sameRequest(t *testing.T, what string, preview *procoretest.Request, got procoretest.Request) {
	t.Helper()
	if preview == nil {
		t.Fatalf("%s: no preview", what)
	}
	mt, _, _ := mime.ParseMediaType(got.ContentType)
	if preview.Method != got.Method || preview.Path != got.Path || preview.Query != got.Query ||
		preview.CompanyID != got.CompanyID || preview.ContentType != mt {
		t.Errorf("%s: previewed %s %s?%s (company %s, %s), sent %s %s?%s (company %s, %s)", what,
			preview.Method, preview.Path, preview.Query, preview.CompanyID, preview.ContentType,
			got.Method, got.Path, got.Query, got.CompanyID, mt)
	}
	if pb, gb := normalJSON(preview.Body), normalJSON(got.Body); pb != gb {
		t.Errorf("%s: previewed body %s, sent %s", what, pb, gb)
	}
	if (preview.Form == nil) != (got.Form == nil) {
		t.Fatalf("%s: previewed form %v, sent %v", what, preview.Form, got.Form)
	}
	if preview.Form != nil {
		pf, _ := json.Marshal(preview.Form)
		gf, _ := json.Marshal(got.Form)
		if string(pf) != string(gf) {
			t.Errorf("%s: previewed form %s, sent %s", what, pf, gf)
		}
	}
}

// normalJSON is raw re-encoded, so that the preview's \u00e9 and the
// body's é compare equal (the same JSON value).
func normalJSON(raw json.RawMessage) string {
	if len(raw) == 0 {
		return ""
	}
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return "invalid JSON: " + string(raw)
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// methods returns the methods of the requests the emulator received, in
// order, e.g. "GET PATCH".
func methods(emu *procoretest.Server) string {
	var out []string
	for _, r := range emu.Requests() {
		if r.Method == http.MethodGet || r.Method == http.MethodPatch {
			out = append(out, r.Method)
		}
	}
	return strings.Join(out, " ")
}

// TestValidateOnlyPreviewIsWhatIsSent: over gRPC and both REST routes, a
// validate_only update reads the record (one GET), sends no PATCH, answers
// the user as the update would leave it, and previews a request; the same
// update made for real then sends Procore exactly that request.
func TestValidateOnlyPreviewIsWhatIsSent(t *testing.T) {
	const title = "Préview Lead"
	type result struct {
		jobTitle, lastName, preview string
	}
	transports := map[string]func(t *testing.T, s *stack, validateOnly bool) result{
		"gRPC": func(t *testing.T, s *stack, validateOnly bool) result {
			var md metadata.MD
			u, err := s.client.UpdateCompanyUser(context.Background(), &directoryv1.UpdateCompanyUserRequest{
				CompanyId: 8089, Id: 1001, User: &directoryv1.CompanyUser{JobTitle: ptr(title)},
				UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"job_title"}}, ValidateOnly: validateOnly,
				RunConfigurableValidations: ptr(false),
			}, grpc.Header(&md))
			if err != nil {
				t.Fatal(err)
			}
			return result{u.GetJobTitle(), u.GetLastName(), strings.Join(md.Get(apierr.ProcoreRequestHeader), "")}
		},
		"REST /v1": func(t *testing.T, s *stack, validateOnly bool) result {
			q := "?update_mask=job_title&run_configurable_validations=false"
			if validateOnly {
				q += "&validate_only=true"
			}
			code, h, body := s.do(t, http.MethodPatch, "/v1/companies/8089/users/1001"+q, "application/json", `{"job_title":"`+title+`"}`)
			if code != http.StatusOK {
				t.Fatalf("%d %v", code, body)
			}
			return result{body["job_title"].(string), body["last_name"].(string), h.Get("X-Procore-Request")}
		},
		"REST Procore route": func(t *testing.T, s *stack, validateOnly bool) result {
			q := "?run_configurable_validations=false"
			if validateOnly {
				q += "&validate_only=true"
			}
			code, h, body := s.do(t, http.MethodPatch, "/rest/v1.3/companies/8089/users/1001"+q, "application/json", `{"user":{"job_title":"`+title+`"}}`)
			if code != http.StatusOK {
				t.Fatalf("%d %v", code, body)
			}
			return result{body["job_title"].(string), body["last_name"].(string), h.Get("X-Procore-Request")}
		},
	}
	for name, call := range transports {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			s := startStack(t, withoutRateLimits(), withRequired(service.RequiredFieldsFill))
			before, _ := s.emu.User(8089, 1001)
			got := call(t, s, true)
			if m := methods(s.emu); m != "GET" {
				t.Fatalf("validate_only sent %q to Procore, want one GET", m)
			}
			if after, _ := s.emu.User(8089, 1001); !bytes.Equal(before, after) {
				t.Fatalf("validate_only changed the record")
			}
			if got.jobTitle != title || got.lastName != "Okafor" {
				t.Errorf("answered job_title %q last_name %q, want the record with the masked field applied", got.jobTitle, got.lastName)
			}
			p := decodePreview(t, got.preview)
			if !strings.Contains(got.preview, `Pr\u00e9view`) {
				t.Errorf("preview %s: non-ASCII not escaped", got.preview)
			}
			if p.IfRefused != nil {
				t.Errorf("fill mode previews a second request: %+v", p.IfRefused)
			}
			s.emu.ResetRequests()
			call(t, s, false)
			var patches []procoretest.Request
			for _, r := range s.emu.Requests() {
				if r.Method == http.MethodPatch {
					patches = append(patches, r)
				}
			}
			if len(patches) != 1 {
				t.Fatalf("the real update sent %d PATCHes, want 1", len(patches))
			}
			sameRequest(t, "fill", p.Request, patches[0])
			if !strings.Contains(string(p.Request.Body), `"last_name":"Okafor"`) {
				t.Errorf("fill mode preview %s lacks the filled last_name", p.Request.Body)
			}
		})
	}
}

// TestValidateOnlyRequiredFieldsAuto: in auto mode, for a company not yet
// known to refuse partial bodies, the preview is the masked-only request,
// plus the filled one that would follow a refusal, and a note; against a
// Procore that refuses partial bodies the real update then sends exactly
// those two. Once the company is known, the preview is the filled body.
func TestValidateOnlyRequiredFieldsAuto(t *testing.T) {
	s := startStack(t, withoutRateLimits(), withRequired(service.RequiredFieldsAuto))
	req := &directoryv1.UpdateCompanyUserRequest{
		CompanyId: 8089, Id: 1001, User: &directoryv1.CompanyUser{JobTitle: ptr("Auto Lead")},
		UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"job_title"}}, ValidateOnly: true,
	}
	preview := func() procoreRequestPreview {
		var md metadata.MD
		if _, err := s.client.UpdateCompanyUser(context.Background(), req, grpc.Header(&md)); err != nil {
			t.Fatal(err)
		}
		return decodePreview(t, strings.Join(md.Get(apierr.ProcoreRequestHeader), ""))
	}
	p := preview()
	if string(p.Request.Body) != `{"user":{"job_title":"Auto Lead"}}` || p.IfRefused == nil || !strings.Contains(p.Note, "auto") {
		t.Fatalf("auto preview: request %s, if_refused %+v, note %q", p.Request.Body, p.IfRefused, p.Note)
	}
	s.emu.ResetRequests()
	real := &directoryv1.UpdateCompanyUserRequest{CompanyId: 8089, Id: 1001, User: req.GetUser(), UpdateMask: req.GetUpdateMask()}
	if _, err := s.client.UpdateCompanyUser(context.Background(), real); err != nil {
		t.Fatal(err)
	}
	var patches []procoretest.Request
	for _, r := range s.emu.Requests() {
		if r.Method == http.MethodPatch {
			patches = append(patches, r)
		}
	}
	if len(patches) != 2 || patches[0].Status != http.StatusBadRequest {
		t.Fatalf("real update: %d PATCHes, want the refused partial one and the filled one", len(patches))
	}
	sameRequest(t, "request", p.Request, patches[0])
	sameRequest(t, "if_refused", p.IfRefused, patches[1])

	p = preview() // the company is now known to refuse partial bodies
	if p.IfRefused != nil || !strings.Contains(string(p.Request.Body), `"last_name":"Okafor"`) {
		t.Fatalf("known company: request %s, if_refused %+v", p.Request.Body, p.IfRefused)
	}
}

// TestValidateOnlyAndRequestID: AIP-163 says a validate_only request is not
// recorded as performed. A validate_only under an id does not claim it: the
// real update under the same id then runs (one PATCH), its retry is
// replayed (none), and a validate_only under the id still previews.
func TestValidateOnlyAndRequestID(t *testing.T) {
	s := startStack(t, withoutRateLimits(), withRequired(service.RequiredFieldsFill))
	id := uuid.NewString()
	update := func(validateOnly bool) (string, error) {
		var md metadata.MD
		_, err := s.client.UpdateCompanyUser(context.Background(), &directoryv1.UpdateCompanyUserRequest{
			CompanyId: 8089, Id: 1001, User: &directoryv1.CompanyUser{City: ptr("Salem")},
			UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"city"}}, RequestId: id, ValidateOnly: validateOnly,
		}, grpc.Header(&md))
		return strings.Join(md.Get(apierr.ProcoreRequestHeader), ""), err
	}
	steps := []struct {
		validateOnly bool
		want         string // requests to Procore
		preview      bool
	}{
		{validateOnly: true, want: "GET", preview: true},
		{validateOnly: false, want: "GET PATCH"},
		{validateOnly: false, want: ""}, // replayed
		{validateOnly: true, want: "GET", preview: true},
	}
	for i, st := range steps {
		s.emu.ResetRequests()
		p, err := update(st.validateOnly)
		if err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
		if m := methods(s.emu); m != st.want {
			t.Errorf("step %d (validate_only %v): sent %q, want %q", i, st.validateOnly, m, st.want)
		}
		if (p != "") != st.preview {
			t.Errorf("step %d: preview %q", i, p)
		}
	}
}

// TestValidateOnlyEdges: a validate_only update that fails validation is
// refused before anything is sent; one that writes nothing previews no
// request; one with an avatar previews the multipart form.
func TestValidateOnlyEdges(t *testing.T) {
	t.Run("invalid", func(t *testing.T) {
		s := startStack(t, withoutRateLimits(), withRequired(service.RequiredFieldsFill))
		_, err := s.client.UpdateCompanyUser(context.Background(), &directoryv1.UpdateCompanyUserRequest{
			CompanyId: 8089, Id: 1001, User: &directoryv1.CompanyUser{CountryCode: ptr("XX")},
			UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"country_code"}}, ValidateOnly: true,
		})
		if status.Code(err) != codes.InvalidArgument {
			t.Fatalf("got %v, want INVALID_ARGUMENT", err)
		}
		if m := methods(s.emu); m != "" {
			t.Fatalf("sent %q to Procore", m)
		}
	})
	t.Run("writes nothing", func(t *testing.T) {
		s := startStack(t, withoutRateLimits(), withRequired(service.RequiredFieldsFill))
		var md metadata.MD
		u, err := s.client.UpdateCompanyUser(context.Background(), &directoryv1.UpdateCompanyUserRequest{
			CompanyId: 8089, Id: 1001, User: &directoryv1.CompanyUser{},
			UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"id"}}, ValidateOnly: true,
		}, grpc.Header(&md))
		if err != nil || u.GetLastName() != "Okafor" {
			t.Fatalf("%v %v", u, err)
		}
		p := decodePreview(t, strings.Join(md.Get(apierr.ProcoreRequestHeader), ""))
		if p.Request != nil || p.Note == "" {
			t.Fatalf("preview %+v, want no request and a note", p)
		}
	})
	t.Run("avatar", func(t *testing.T) {
		s := startStack(t, withoutRateLimits(), withRequired(service.RequiredFieldsFill))
		req := &directoryv1.UpdateCompanyUserRequest{
			CompanyId: 8089, Id: 1001, User: &directoryv1.CompanyUser{City: ptr("Eugene")},
			UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"city"}}, ValidateOnly: true,
			Avatar: &directoryv1.AvatarUpload{Content: png1x1, FileName: "me.png", ContentType: "image/png"},
		}
		var md metadata.MD
		if _, err := s.client.UpdateCompanyUser(context.Background(), req, grpc.Header(&md)); err != nil {
			t.Fatal(err)
		}
		p := decodePreview(t, strings.Join(md.Get(apierr.ProcoreRequestHeader), ""))
		if methods(s.emu) != "GET" {
			t.Fatalf("sent %q", methods(s.emu))
		}
		s.emu.ResetRequests()
		req.ValidateOnly = false
		if _, err := s.client.UpdateCompanyUser(context.Background(), req); err != nil {
			t.Fatal(err)
		}
		reqs := s.emu.Requests()
		if methods(s.emu) != "GET PATCH" {
			t.Fatalf("real update sent %q", methods(s.emu))
		}
		sameRequest(t, "avatar", p.Request, reqs[len(reqs)-1])
	})
}

// TestValidateOnlyPreviewNotLogged: its one GET is spent from the rate
// budget like any call's; the preview is the caller's own data
// and goes to the caller only: the access log records the call, and no log
// line carries the preview or the values it shows.
func TestValidateOnlyPreviewNotLogged(t *testing.T) {
	s := startStack(t, withOps(), withoutRateLimits(), withRequired(service.RequiredFieldsFill))
	var md metadata.MD
	if _, err := s.client.UpdateCompanyUser(context.Background(), &directoryv1.UpdateCompanyUserRequest{
		CompanyId: 8089, Id: 1001, User: &directoryv1.CompanyUser{JobTitle: ptr("Quartermaster of Logs")},
		UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"job_title"}}, ValidateOnly: true,
	}, grpc.Header(&md)); err != nil {
		t.Fatal(err)
	}
	decodePreview(t, strings.Join(md.Get(apierr.ProcoreRequestHeader), ""))
	// The GET went through the upstream client, as any call's requests do:
	// counted in the rate budget spent per call.
	labels := map[string]string{"grpc_service": "procore.directory.v1.DirectoryService", "grpc_method": "UpdateCompanyUser"}
	if v, ok := value(s.scrape(t), "directoryd_upstream_requests_per_call_sum", labels); !ok || v != 1 {
		t.Errorf("directoryd_upstream_requests_per_call_sum = %v (found %v), want 1 (the GET)", v, ok)
	}
	logs := s.logs.String()
	if !strings.Contains(logs, `"msg":"call"`) {
		t.Fatalf("no access log line:\n%s", logs)
	}
	for _, secret := range []string{"Quartermaster", mariaEmail, "Okafor", apierr.ProcoreRequestHeader} {
		if strings.Contains(logs, secret) {
			t.Errorf("logs contain %q:\n%s", secret, logs)
		}
	}
}
