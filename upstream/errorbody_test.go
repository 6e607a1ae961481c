package upstream

import (
	"reflect"
	"strings"
	"testing"
)

func TestParseErrorBody(t *testing.T) {
	tests := []struct {
		name       string
		body       string
		wantMsg    string
		wantFields []FieldError
	}{
		{"field map", `{"errors":{"last_name":["can't be blank"],"email_address":["is invalid","has already been taken"]}}`,
			"email_address is invalid, has already been taken; last_name can't be blank",
			[]FieldError{{"email_address", []string{"is invalid", "has already been taken"}}, {"last_name", []string{"can't be blank"}}}},
		{"field map with string", `{"errors":{"state_code":"is not a subdivision of US"}}`, "state_code is not a subdivision of US",
			[]FieldError{{"state_code", []string{"is not a subdivision of US"}}}},
		{"errors text", `{"errors": "You do not have permission to change email_address"}`, "You do not have permission to change email_address", nil},
		{"errors not found", `{"errors":"Not Found"}`, "Not Found", nil},
		{"errors list", `{"errors":["a","b"]}`, "a; b", nil},
		{"error text", `{"error":"Something broke"}`, "Something broke", nil},
		{"oauth", `{"error":"invalid_token","error_description":"The access token expired"}`, "invalid_token: The access token expired", nil},
		{"error object", `{"error":{"code":"validation_error","message":"Validation failed","details":["name too long",{"field":"zip","message":"is invalid"}]}}`,
			"Validation failed; name too long", []FieldError{{"zip", []string{"is invalid"}}}},
		{"error object code only", `{"error":{"code":"forbidden"}}`, "forbidden", nil},
		{"flat", `{"code":422,"message":"Unprocessable","fields":["vendor_id"],"reason":"unknown vendor","error":"Unprocessable Entity"}`,
			"Unprocessable Entity; Unprocessable; unknown vendor", []FieldError{{Field: "vendor_id"}}},
		{"flat published 400", `{"code":400,"message":"last_name can't be blank, email_address can't be blank","fields":"last_name,email_address","reason":"missing_required_fields","error":"Bad Request"}`,
			"email_address can't be blank; last_name can't be blank", []FieldError{{"email_address", []string{"can't be blank"}}, {"last_name", []string{"can't be blank"}}}},
		{"flat published 403", `{"code":403,"message":"You do not have permission to change email_address","fields":"email_address","reason":"admin_only_field","error":"Forbidden"}`,
			"You do not have permission to change email_address", []FieldError{{"email_address", []string{"You do not have permission to change email_address"}}}},
		{"flat published no message", `{"code":401,"message":"","fields":"","reason":"invalid_token","error":"Unauthorized"}`, "invalid_token", nil},
		{"flat published status only", `{"code":401,"fields":"","error":"Unauthorized"}`, "Unauthorized", nil},
		{"flat fields map", `{"message":"bad","fields":{"zip":["too long"]}}`, "bad", []FieldError{{"zip", []string{"too long"}}}},
		{"plain text", "Missing Procore-Company-Id header!", "Missing Procore-Company-Id header!", nil},
		{"plain 429", "You have surpassed the max number of requests for an hour. Please wait until your limit resets.\n",
			"You have surpassed the max number of requests for an hour. Please wait until your limit resets.", nil},
		{"html", "<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head><body><h1>oops</h1></body></html>", "502 Bad Gateway", nil},
		{"html no title", "<html><body>down</body></html>", "HTML error page", nil},
		{"empty", "", "", nil},
		{"whitespace", " \n\t", "", nil},
		{"truncated json", `{"errors": {"last_na`, "", nil},
		{"json string", `"just a string"`, "just a string", nil},
		{"json number", `42`, "42", nil},
		{"null", `null`, "null", nil},
		{"unknown object", `{"status":"bad"}`, "", nil},
		{"binary", "\x00\xff\xfeabc\x01", "abc", nil},
		{"multiline text", "line one\r\nline two", "line one line two", nil},
		{"duplicate messages", `{"error":"x","message":"x"}`, "x", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := parseErrorBody([]byte(tt.body))
			if d.message != tt.wantMsg {
				t.Errorf("message %q, want %q", d.message, tt.wantMsg)
			}
			if !reflect.DeepEqual(d.fields, tt.wantFields) {
				t.Errorf("fields %#v, want %#v", d.fields, tt.wantFields)
			}
		})
	}
}

func TestParseErrorBodyCapsMessage(t *testing.T) {
	d := parseErrorBody([]byte(strings.Repeat("é", 2000)))
	if len(d.message) > maxMessageLen+len("…") || !strings.HasSuffix(d.message, "…") {
		t.Fatalf("message of %d bytes", len(d.message))
	}
	if !strings.HasPrefix(d.message, "é") || strings.ContainsRune(d.message, '\uFFFD') {
		t.Fatal("cut inside a rune")
	}
}

func TestRedact(t *testing.T) {
	tests := []struct{ in, secret, want string }{
		{"ana.diaz+x@example.co.uk has already been taken", "", "[email] has already been taken"},
		{"mail ana@example.com.", "", "mail [email]."},
		{"two a@b.io, c@d.org", "", "two [email], [email]"},
		{"not an address: a@b and @home", "", "not an address: a@b and @home"},
		{"call +1 (555) 010-9999 now", "", "call [phone] now"},
		{"call 555.010.9999", "", "call [phone]"},
		{"ext 1234 and id 8089", "", "ext 1234 and id 8089"},
		{"token abc123 leaked abc123", "abc123", "token [token] leaked [token]"},
		{"2024-01-02 is a date", "", "[phone] is a date"},
		// A token in any case, or a piece of 8 or more characters of it.
		{"bad token EYJHBGCIOIJSUZI1NIJ9", "eyJhbGciOiJSUzI1NiJ9", "bad token [token]"},
		{"token eyJhbGciOiJS... expired", "eyJhbGciOiJSUzI1NiJ9", "token [token]... expired"},
		{"tail UzI1NiJ9 and tail UzI1NiJ", "eyJhbGciOiJSUzI1NiJ9", "tail [token] and tail UzI1NiJ"},
		{"upper ABC123", "abc123", "upper [token]"},
		{"an ordinary message", "eyJhbGciOiJSUzI1NiJ9", "an ordinary message"},
		// Sizes and ids are not phones; phones still are.
		{"response body exceeds 1048576 bytes", "", "response body exceeds 1048576 bytes"},
		{"limit is 10485760B", "", "limit is 10485760B"},
		{"took 1234567 ms", "", "took 1234567 ms"},
		{"company 1234567 user 987654321", "", "company 1234567 user 987654321"},
		{"user_id: 5550109999 and id 5550109999", "", "user_id: 5550109999 and id 5550109999"},
		{"companyId=5550109999", "", "companyId=5550109999"},
		{"call 5550109999", "", "call [phone]"},
		{"paid 5550109999", "", "paid [phone]"},
		{"mobile_phone 5550109 is invalid", "", "mobile_phone [phone] is invalid"},
		{"fax 555-0109", "", "fax [phone]"},
		{"req_5550109999", "", "req_5550109999"},
		{"", "", ""},
	}
	for _, tt := range tests {
		if got := redact(tt.in, tt.secret); got != tt.want {
			t.Errorf("redact(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// FuzzParseErrorBody: any body yields an *Error whose text has no e-mail
// address and no phone number, without panicking.
func FuzzParseErrorBody(f *testing.F) {
	seeds := []string{
		`{"errors":{"email_address":["jo@x.com has already been taken"]}}`,
		`{"errors":"Not Found"}`, `{"error":"invalid_token","error_description":"expired"}`,
		`{"error":{"code":"c","message":"m","details":[{"field":"f","message":"call 555-010-9999"}]}}`,
		`{"code":1,"message":"m","fields":["a"],"reason":"r","error":"e"}`,
		"Missing Procore-Company-Id header!", "<html><title>x</title></html>", "", `{"errors":`, "\xff",
		`{"errors":{"a":[{"message":1}]}}`, `[[[[]]]]`, `{"error":{"details":"x"}}`,
	}
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		d := parseErrorBody(body)
		e := &Error{Op: opUpdate, Kind: KindStatus, StatusCode: 422, Message: redact(d.message, ""), FieldErrors: redactFields(d.fields, ""), Body: body}
		s := e.Error()
		if redact(s, "") != s {
			t.Fatalf("Error() %q still has personal data", s)
		}
		for i := 1; i < len(d.fields); i++ {
			if d.fields[i-1].Field >= d.fields[i].Field {
				t.Fatalf("fields not sorted/unique: %v", d.fields)
			}
		}
	})
}
