package server_test

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/procore-directory/procore-directory/service"
	"github.com/procore-directory/procore-directory/service/apierr"
)

// TestRESTProcoreGetMatchesEmulatorShow: GET on the Procore-compatible
// route answers what Procore's own show answers for the same user, field
// by field wherever a field exists in both (numbers as numbers, nulls as
// nulls, nested objects alike, timestamps as the same instant).
func TestRESTProcoreGetMatchesEmulatorShow(t *testing.T) {
	s := startStack(t, withoutRateLimits(), withRequired(service.RequiredFieldsFill))
	admin, _ := s.emu.AdminClient()
	token, err := s.emu.IssueToken(admin.ClientID)
	if err != nil {
		t.Fatal(err)
	}
	// One user changed through the service first: set and cleared fields.
	if code, _, body := s.do(t, http.MethodPatch, "/rest/v1.3/companies/8089/users/1002?update_mask=city,notes", "application/json",
		`{"user":{"city":"Salem","notes":null}}`); code != http.StatusOK {
		t.Fatalf("PATCH: %d %v", code, body)
	}
	tests := []struct {
		company, id string
	}{{"8089", "1001"}, {"8089", "1002"}, {"8089", "1004"}, {"5120", "2001"}}
	for _, tt := range tests {
		t.Run(tt.company+"/"+tt.id, func(t *testing.T) {
			path := "/rest/v1.3/companies/" + tt.company + "/users/" + tt.id
			code, _, ours := s.do(t, http.MethodGet, path, "", "")
			if code != http.StatusOK {
				t.Fatalf("GET through the service: %d %v", code, ours)
			}
			theirs := emulatorShow(t, s, path, tt.company, token)
			if n := compareProcoreJSON(t, "", ours, theirs); n < 20 {
				t.Errorf("only %d fields in common: %v vs %v", n, ours, theirs)
			}
		})
	}
}

// emulatorShow is Procore's own answer to GET path, asked directly.
func emulatorShow(t *testing.T, s *stack, path, company, token string) map[string]any {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, s.emu.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Procore-Company-Id", company)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	dec := json.NewDecoder(resp.Body)
	dec.UseNumber()
	if err := dec.Decode(&out); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("emulator show: %d %v", resp.StatusCode, err)
	}
	return out
}

// compareProcoreJSON reports every field of both objects whose values
// differ (recursing into objects present in both) and returns how many
// leaf fields were compared.
func compareProcoreJSON(t *testing.T, prefix string, ours, theirs map[string]any) int {
	t.Helper()
	n := 0
	for k, want := range theirs {
		got, ok := ours[k]
		if !ok {
			continue
		}
		gm, gok := got.(map[string]any)
		wm, wok := want.(map[string]any)
		if gok && wok {
			n += compareProcoreJSON(t, prefix+k+".", gm, wm)
			continue
		}
		n++
		gs, gstr := got.(string)
		ws, wstr := want.(string)
		if gstr && wstr {
			gt, gerr := time.Parse(time.RFC3339Nano, gs)
			wt, werr := time.Parse(time.RFC3339Nano, ws)
			if gerr == nil && werr == nil {
				if !gt.Equal(wt) {
					t.Errorf("%s%s: %s, Procore %s", prefix, k, gs, ws)
				}
				continue
			}
		}
		gb, _ := json.Marshal(got)
		wb, _ := json.Marshal(want)
		if string(gb) != string(wb) {
			t.Errorf("%s%s: %s, Procore %s", prefix, k, gb, wb)
		}
	}
	return n
}

// TestRESTProcoreGetPassThrough: the Procore route's GET forwards the
// caller's token like every route (through the service's interceptors and
// client), so without one nothing reaches Procore.
func TestRESTProcoreGetPassThrough(t *testing.T) {
	s := startStack(t, withoutRateLimits(), withPassThrough(), withRequired(service.RequiredFieldsMaskedOnly))
	field, err := s.emu.IssueToken("field-app")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name       string
		header     []string
		wantHTTP   int
		wantReason string
		wantCalls  int
	}{
		{"no token", nil, http.StatusUnauthorized, apierr.ReasonMissingCredentials, 0},
		{"unknown token", []string{"Authorization", "Bearer forged"}, http.StatusUnauthorized, apierr.ReasonUpstreamUnauthenticated, 1},
		{"token", []string{"Authorization", "Bearer " + field}, http.StatusOK, "", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s.emu.ResetRequests()
			code, hdr, body := s.do(t, http.MethodGet, "/rest/v1.3/companies/8089/users/1001", "", "", tt.header...)
			if code != tt.wantHTTP {
				t.Fatalf("HTTP %d, want %d: %v", code, tt.wantHTTP, body)
			}
			if tt.wantReason != "" {
				if d := statusDetails(t, asStatus(t, "/rest/v1.3/companies/8089/users/1001", hdr, body)); d["ErrorInfo"]["reason"] != tt.wantReason {
					t.Errorf("ErrorInfo %v, want %s", d["ErrorInfo"], tt.wantReason)
				}
			} else if body["id"] != json.Number("1001") {
				t.Errorf("id %#v", body["id"])
			}
			if n := len(s.emu.Requests()); n != tt.wantCalls {
				t.Errorf("%d upstream requests, want %d", n, tt.wantCalls)
			}
		})
	}
}
