package upstream

import "testing"

// TestRedactBody: Procore's error body comes back redacted as messages
// are, a JSON body in its own shape and order, other bodies as text, and
// a body cut at the cap not at all.
func TestRedactBody(t *testing.T) {
	const token = "s3cretTokenValue42"
	tests := []struct {
		name, body string
		truncated  bool
		want       string
	}{
		{"field errors keep their shape", `{"errors": {"email_address": ["jo@x.com is invalid"], "city": ["can't be blank"]}}`, false,
			`{"errors":{"email_address":["[email] is invalid"],"city":["can't be blank"]}}`},
		{"message string", `{"errors":"Not Found"}`, false, `{"errors":"Not Found"}`},
		{"numbers and names kept, token redacted", `{"code":401,"message":"token s3cretTokenValue42 expired","fields":""}`, false,
			`{"code":401,"message":"token [token] expired","fields":""}`},
		{"plain text", "call 555-010-9999 or write jo@x.com", false, "call [phone] or write [email]"},
		{"invalid UTF-8 text", "bad \xff byte", false, "bad \uFFFD byte"},
		{"truncated", `{"errors":"Not`, true, ""},
		{"empty", "", false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := string(redactBody([]byte(tt.body), tt.truncated, token)); got != tt.want {
				t.Errorf("redactBody(%q) = %q, want %q", tt.body, got, tt.want)
			}
		})
	}
}
