package upstream

import (
	"encoding/json"
	"testing"
)

// unquoteJSON must decode every literal exactly as encoding/json does,
// through its fast path or not.
func checkUnquote(t *testing.T, lit []byte) {
	t.Helper()
	var want string
	wantErr := json.Unmarshal(lit, &want)
	got, err := unquoteJSON(lit)
	if (err != nil) != (wantErr != nil) || got != want {
		t.Errorf("unquoteJSON(%q) = %q, %v; encoding/json: %q, %v", lit, got, err, want, wantErr)
	}
}

func TestUnquoteJSON(t *testing.T) {
	for _, lit := range []string{
		`""`, `"plain"`, `"Maria Okafor | Summit Ridge Construction"`, `"2026-11-20T16:04:11Z"`,
		`"quote \" inside"`, `"back\\slash"`, `"\u00e9t\u00e9"`, `"tab\tnewline\n"`, "\"raw\ttab\"",
		`"é, 漢字, 🏗"`, "\"\xff invalid utf-8\"", "\"\xe2\x80\xa8 line separator\"", `"{\"source\":\"workday\"}"`,
		`"unterminated`, `"`, `x`, `"a" `, `"embedded"quote"`,
	} {
		checkUnquote(t, []byte(lit))
	}
}

func FuzzUnquoteJSON(f *testing.F) {
	for _, s := range []string{`"plain"`, `"a\"b"`, "\"\xff\"", `"\u2028"`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, lit []byte) {
		checkUnquote(t, lit)
	})
}
