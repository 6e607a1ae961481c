package main

import (
	"fmt"
	"log/slog"
	"net/http"
	"testing"

	"github.com/procore-directory/procore-directory/upstream/procoretest"
)

// TestDevEmulatorRateLimits: the dev emulator enforces Procore's spike limit
// (25 requests per 10 s per token) unless --dev-rate-limits=false.
func TestDevEmulatorRateLimits(t *testing.T) {
	for _, limits := range []bool{true, false} {
		t.Run(fmt.Sprintf("rate-limits=%v", limits), func(t *testing.T) {
			emu, err := startEmulator(slog.New(slog.DiscardHandler), limits)
			if err != nil {
				t.Fatal(err)
			}
			defer emu.close()
			tok := procoretest.Token(t, emu.url+"/oauth/token", procoretest.OAuthClient{ClientID: emu.clientID, ClientSecret: emu.clientSecret})
			limited := 0
			for range 30 { // more than the spike limit of 25
				req, _ := http.NewRequest(http.MethodGet, emu.url+"/rest/v1.3/companies/8089/users/1001", nil)
				req.Header.Set("Authorization", "Bearer "+tok)
				req.Header.Set("Procore-Company-Id", "8089")
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				switch resp.StatusCode {
				case http.StatusOK:
				case http.StatusTooManyRequests:
					limited++
				default:
					t.Fatalf("status %d", resp.StatusCode)
				}
			}
			if limits && limited == 0 {
				t.Error("30 requests in a row: none rate limited")
			}
			if !limits && limited > 0 {
				t.Errorf("rate limits off: %d requests rate limited", limited)
			}
		})
	}
}
