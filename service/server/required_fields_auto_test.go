package server_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"google.golang.org/protobuf/types/known/fieldmaskpb"

	directoryv1 "github.com/procore-directory/procore-directory/gen/procore/directory/v1"
	"github.com/procore-directory/procore-directory/service"
	"github.com/procore-directory/procore-directory/upstream/procoretest"
)

// TestRequiredFieldsAuto: three job-title updates in auto mode (the
// default) against the emulator, which refuses partial bodies unless told
// otherwise. Refusing: the first update sends the masked field, is refused
// (400 naming the two fields), reads the record and sends again with them;
// the next two fill at once, remembered. Accepting: one PATCH each. The
// emulator's request log and directoryd_upstream_requests_per_call agree.
func TestRequiredFieldsAuto(t *testing.T) {
	masked := `{"user":{"job_title":"Lead %d"}}`
	filled := `{"user":{"email_address":"` + mariaEmail + `","job_title":"Lead %d","last_name":"Okafor"}}`
	tests := []struct {
		name    string
		partial bool
		want    []string // method, status and body of each request to Procore
	}{
		{
			name: "Procore refuses partial bodies",
			want: []string{
				"PATCH 400 " + fmt.Sprintf(masked, 1), "GET 200 ", "PATCH 200 " + fmt.Sprintf(filled, 1),
				"GET 200 ", "PATCH 200 " + fmt.Sprintf(filled, 2),
				"GET 200 ", "PATCH 200 " + fmt.Sprintf(filled, 3),
			},
		},
		{
			name:    "Procore accepts partial bodies",
			partial: true,
			want:    []string{"PATCH 200 " + fmt.Sprintf(masked, 1), "PATCH 200 " + fmt.Sprintf(masked, 2), "PATCH 200 " + fmt.Sprintf(masked, 3)},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := startStack(t, withOps(), withRequired(service.RequiredFieldsAuto), withoutRateLimits(), withEmulator(procoretest.WithPartialBodies(tt.partial)))
			for i := 1; i <= 3; i++ {
				u, err := s.client.UpdateCompanyUser(context.Background(), &directoryv1.UpdateCompanyUserRequest{
					CompanyId: 8089, Id: 1001,
					User:       &directoryv1.CompanyUser{JobTitle: ptr(fmt.Sprintf("Lead %d", i))},
					UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"job_title"}},
				})
				if err != nil {
					t.Fatalf("update %d: %v", i, err)
				}
				if u.GetJobTitle() != fmt.Sprintf("Lead %d", i) || u.GetLastName() != "Okafor" {
					t.Fatalf("update %d answered %v", i, u)
				}
			}
			var got []string
			for _, r := range s.emu.Requests() {
				if r.Method == http.MethodGet || r.Method == http.MethodPatch {
					got = append(got, fmt.Sprintf("%s %d %s", r.Method, r.Status, r.Body))
				}
			}
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Fatalf("requests to Procore:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
			labels := map[string]string{"grpc_service": "procore.directory.v1.DirectoryService", "grpc_method": "UpdateCompanyUser"}
			samples := s.scrape(t)
			for name, want := range map[string]float64{
				"directoryd_upstream_requests_per_call_count": 3,
				"directoryd_upstream_requests_per_call_sum":   float64(len(tt.want)),
			} {
				if v, ok := value(samples, name, labels); !ok || v != want {
					t.Errorf("%s = %v (found %v), want %v", name, v, ok, want)
				}
			}
		})
	}
}
