package service_test

import (
	"encoding/json"
	"net/http"
	"testing"

	"golang.org/x/oauth2/clientcredentials"

	"github.com/procore-directory/procore-directory/service"
	"github.com/procore-directory/procore-directory/upstream"
	"github.com/procore-directory/procore-directory/upstream/procoretest"
)

// realService is the core over the real Procore client and the emulator,
// with the seed's Directory Admin credential (client-credentials mode).
func realService(t *testing.T, opts ...service.Option) (*service.Service, *procoretest.Server) {
	t.Helper()
	emu := procoretest.NewServer(t, procoretest.WithHourlyLimit(0), procoretest.WithSpikeLimit(0))
	admin, ok := emu.AdminClient()
	if !ok {
		t.Fatal("no admin client in the seed")
	}
	up, err := upstream.New(emu.URL, upstream.WithTokenSource(upstream.ClientCredentials(
		clientcredentials.Config{ClientID: admin.ClientID, ClientSecret: admin.ClientSecret, TokenURL: emu.TokenURL})),
		upstream.WithPacing(0), upstream.WithConcurrencyLimit(0, 0))
	if err != nil {
		t.Fatal(err)
	}
	// fill mode unless opts say otherwise: these tests count the PATCHes of
	// a call and script faults by request order (GET, then PATCH), which
	// auto mode's first refused PATCH per company would shift.
	svc, err := service.New(up, append([]service.Option{service.WithRequiredFields(service.RequiredFieldsFill)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return svc, emu
}

func countPatches(emu *procoretest.Server) int {
	n := 0
	for _, r := range emu.Requests() {
		if r.Method == http.MethodPatch {
			n++
		}
	}
	return n
}

func storedField(t *testing.T, emu *procoretest.Server, field string) string {
	t.Helper()
	raw, ok := emu.User(8089, 1001)
	if !ok {
		t.Fatal("user 1001 gone")
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	s, _ := m[field].(string)
	return s
}
