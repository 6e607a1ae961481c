package procoretest

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// Token fetches an access token for client from tokenURL (the emulator's
// POST /oauth/token, or any OAuth 2.0 server) with the client_credentials
// grant, the way a real client does over HTTP. Tests that are not about
// authentication can use Emulator.IssueToken instead; Token is for tests
// that only have a URL (an emulator in another process, directoryd --dev)
// and must not each re-implement the form post and decoding. Any failure
// fails the test; the secret never appears in the message.
func Token(tb testing.TB, tokenURL string, client OAuthClient) string {
	tb.Helper()
	form := url.Values{
		"grant_type":    {"client_credentials"},
		"client_id":     {client.ClientID},
		"client_secret": {client.ClientSecret},
	}
	req, err := http.NewRequestWithContext(tb.Context(), http.MethodPost, tokenURL, strings.NewReader(form.Encode()))
	if err != nil {
		tb.Fatalf("procoretest.Token: %v", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatalf("procoretest.Token: client %q: %v", client.ClientID, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		tb.Fatalf("procoretest.Token: client %q: read answer: %v", client.ClientID, err)
	}
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if resp.StatusCode != http.StatusOK {
		// An OAuth error body ({"error": "invalid_client"}) holds no secret.
		tb.Fatalf("procoretest.Token: client %q: status %d: %.200s", client.ClientID, resp.StatusCode, body)
	}
	if err := json.Unmarshal(body, &tok); err != nil || tok.AccessToken == "" {
		tb.Fatalf("procoretest.Token: client %q: no access_token in the answer (%v)", client.ClientID, err)
	}
	return tok.AccessToken
}

// Token is the package function Token against this server's TokenURL.
func (s *Server) Token(tb testing.TB, client OAuthClient) string {
	tb.Helper()
	return Token(tb, s.TokenURL, client)
}
