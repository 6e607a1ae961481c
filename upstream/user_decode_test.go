package upstream

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"os"
	"regexp"
	"strings"
	"testing"
)

// emulatorShowAnswers returns the emulator's show answers for the users of
// its default seed, as procoretest's Emulator.User renders them (captured
// from it: procoretest imports this package, so these tests cannot call
// it). With emulatorUserJSON, an update's answer, they are what decodeUser
// is given in the end-to-end tests and benchmarks that use the emulator.
func emulatorShowAnswers() []string {
	return []string{
		`{"id":1001,"first_name":"Maria","last_name":"Okafor","name":"Maria Okafor","email_address":"maria.okafor@summitridge.example","job_title":"Project Manager","address":"1200 Alder Street, Suite 4","city":"Portland","zip":"97205","country_code":"US","state_code":"OR","business_phone":"+1 503 555 0142","business_phone_extension":214,"mobile_phone":"+1 503 555 0199","fax_number":null,"email_signature":"Maria Okafor | Summit Ridge Construction","is_active":true,"is_employee":true,"employee_id":"SRC-0042","notes":"Primary contact for the Lloyd District tower.","initials":"MO","origin_id":"hr-7781","origin_data":"{\"source\":\"workday\"}","add_to_new_projects":false,"vendor_id":null,"default_permission_template_id":41,"company_permission_template_id":null,"work_classification_id":null,"avatar":null,"vendor":null,"permission_template":{"id":41,"name":"Project Manager"},"company_permission_template":null,"business_id":null,"is_insurance_manager":false,"last_login_at":"2026-11-20T16:04:11Z","welcome_email_sent_at":"2024-03-02T09:00:00Z","created_at":"2024-03-01T18:22:05Z","updated_at":"2026-11-20T16:04:11Z","role":null,"verified_employee":false}`,
		`{"id":1002,"first_name":"Jun","last_name":"Tanaka","name":"Jun Tanaka","email_address":"jun.tanaka@summitridge.example","job_title":"Superintendent","address":null,"city":"Vancouver","zip":"V6B 1A1","country_code":"CA","state_code":"BC","business_phone":null,"business_phone_extension":null,"mobile_phone":"+1 604 555 0113","fax_number":null,"email_signature":null,"is_active":true,"is_employee":true,"employee_id":"SRC-0107","notes":null,"initials":"JT","origin_id":null,"origin_data":null,"add_to_new_projects":false,"vendor_id":null,"default_permission_template_id":42,"company_permission_template_id":43,"work_classification_id":7,"avatar":null,"vendor":null,"permission_template":{"id":42,"name":"Superintendent"},"company_permission_template":{"id":43,"name":"Read Only"},"business_id":null,"is_insurance_manager":false,"last_login_at":null,"welcome_email_sent_at":"2025-06-10T12:00:00Z","created_at":"2025-06-10T11:58:40Z","updated_at":"2025-06-10T11:58:40Z","role":null,"verified_employee":false}`,
		`{"id":1003,"first_name":"Priya","last_name":"Raman","name":"Priya Raman","email_address":"priya@granitepeak.example","job_title":"Estimator","address":"88 Quarry Road","city":"Sydney","zip":"2000","country_code":"AU","state_code":"NSW","business_phone":"+61 2 5550 1234","business_phone_extension":null,"mobile_phone":"+61 400 555 321","fax_number":"+61 2 5550 1299","email_signature":null,"is_active":true,"is_employee":false,"employee_id":null,"notes":"Vendor contact; invoices go through accounts payable.","initials":"PR","origin_id":null,"origin_data":null,"add_to_new_projects":false,"vendor_id":301,"default_permission_template_id":null,"company_permission_template_id":null,"work_classification_id":null,"avatar":null,"vendor":{"id":301,"name":"Granite Peak Concrete"},"permission_template":null,"company_permission_template":null,"business_id":null,"is_insurance_manager":false,"last_login_at":"2026-10-01T03:15:00Z","welcome_email_sent_at":null,"created_at":"2025-09-14T22:10:00Z","updated_at":"2026-10-01T03:15:00Z","role":null,"verified_employee":false}`,
		`{"id":1004,"first_name":"Zoë","last_name":"Müller-Łukasik","name":"Zoë Müller-Łukasik","email_address":"zoe.mueller@summitridge.example","job_title":"Électricienne","address":"Friedrichstraße 12","city":"Berlin","zip":"10117","country_code":"DE","state_code":"BE","business_phone":null,"business_phone_extension":null,"mobile_phone":"+49 30 5550 7788","fax_number":null,"email_signature":null,"is_active":false,"is_employee":true,"employee_id":"SRC-0311","notes":null,"initials":"ZM","origin_id":null,"origin_data":null,"add_to_new_projects":false,"vendor_id":null,"default_permission_template_id":null,"company_permission_template_id":null,"work_classification_id":9,"avatar":null,"vendor":null,"permission_template":null,"company_permission_template":null,"business_id":null,"is_insurance_manager":false,"last_login_at":null,"welcome_email_sent_at":null,"created_at":"2026-01-05T08:00:00Z","updated_at":"2026-02-01T08:00:00Z","role":null,"verified_employee":false}`,
		`{"id":2001,"first_name":"Samuel","last_name":"Adeyemi","name":"Samuel Adeyemi","email_address":"samuel@harborlight.example","job_title":"Owner","address":null,"city":"Boston","zip":"02110","country_code":"US","state_code":"MA","business_phone":null,"business_phone_extension":null,"mobile_phone":null,"fax_number":null,"email_signature":null,"is_active":true,"is_employee":true,"employee_id":null,"notes":null,"initials":"SA","origin_id":null,"origin_data":null,"add_to_new_projects":false,"vendor_id":null,"default_permission_template_id":77,"company_permission_template_id":77,"work_classification_id":null,"avatar":null,"vendor":null,"permission_template":{"id":77,"name":"Company Admin"},"company_permission_template":{"id":77,"name":"Company Admin"},"business_id":null,"is_insurance_manager":false,"last_login_at":"2026-11-27T13:45:00Z","welcome_email_sent_at":"2023-01-01T00:00:00Z","created_at":"2023-01-01T00:00:00Z","updated_at":"2026-11-27T13:45:00Z","role":null,"verified_employee":false}`,
	}
}

// userDecodeSeeds returns bodies that exercise every rule decodeUser must
// share with the encoding/json oracle: real answers, then each JSON kind in
// each kind of member, duplicates, case-folded and escaped names, odd
// strings and timestamps, and malformed documents. They seed FuzzDecodeUser
// and are checked by TestDecodeUserMatchesOracle.
func userDecodeSeeds() []string {
	seeds := append([]string{emulatorUserJSON, userJSON}, emulatorShowAnswers()...)
	return append(seeds,
		// Nulls everywhere, and the nested objects null.
		`{"id":1,"name":null,"first_name":null,"last_name":null,"job_title":null,"address":null,"city":null,"zip":null,"business_phone":null,"business_phone_extension":null,"mobile_phone":null,"fax_number":null,"email_address":null,"email_signature":null,"is_active":null,"is_employee":null,"add_to_new_projects":null,"employee_id":null,"notes":null,"country_code":null,"state_code":null,"initials":null,"origin_id":null,"origin_data":null,"vendor_id":null,"default_permission_template_id":null,"company_permission_template_id":null,"work_classification_id":null,"vendor":null,"permission_template":null,"company_permission_template":null,"avatar":null,"last_login_at":null,"welcome_email_sent_at":null,"created_at":null,"updated_at":null}`,
		`{"id":null}`,
		`{"id":1,"vendor":null,"permission_template":null,"company_permission_template":null,"vendor_id":null}`,
		// Numbers as strings, and strings as numbers.
		`{"id":"1001","business_phone_extension":"214","vendor_id":" 77 ","default_permission_template_id":"41.0","company_permission_template_id":"","work_classification_id":"-3","employee_id":4411,"zip":97205,"origin_id":1.5e3,"fax_number":true,"mobile_phone":-0,"business_phone":false}`,
		`{"id":"+12","vendor_id":"0x1F","business_phone_extension":"1_000","work_classification_id":"\u0031\u0032","default_permission_template_id":"\u00a012\u3000","company_permission_template_id":"9223372036854775808"}`,
		`{"id":"abc"}`, `{"id":""}`, `{"id":"  "}`,
		// Integral and non-integral numbers, at and beyond the limits.
		`{"id":1e3,"vendor_id":-0.0,"business_phone_extension":9007199254740992.0,"work_classification_id":1E2,"default_permission_template_id":-9007199254740992e0}`,
		`{"id":9223372036854775807,"vendor_id":-9223372036854775808,"business_phone_extension":123456789012345678,"work_classification_id":-1234567890123456789}`,
		`{"id":9223372036854775808}`, `{"id":9007199254740993.0}`, `{"id":9007199254740994.0}`, `{"id":-18014398509481984e0}`, `{"id":1.5}`, `{"id":1e400}`, `{"id":1e-400}`, `{"id":-1e-400}`, `{"id":0.1e1}`,
		`{"id":true}`, `{"id":false}`, `{"id":{}}`, `{"id":[]}`, `{"id":[1]}`,
		// Wrong kinds for each kind of member.
		`{"id":1,"first_name":5}`, `{"id":1,"first_name":true}`, `{"id":1,"first_name":{}}`, `{"id":1,"first_name":["x"]}`,
		`{"id":1,"is_active":"true"}`, `{"id":1,"is_active":1}`, `{"id":1,"is_active":{}}`, `{"id":1,"is_active":[]}`,
		`{"id":1,"zip":{}}`, `{"id":1,"employee_id":[]}`, `{"id":1,"zip":{"a":1}}`,
		`{"id":1,"vendor_id":true}`, `{"id":1,"vendor_id":{}}`, `{"id":1,"vendor_id":[1]}`, `{"id":1,"vendor_id":1.25}`,
		`{"id":1,"vendor":[]}`, `{"id":1,"vendor":"Acme"}`, `{"id":1,"vendor":5}`, `{"id":1,"vendor":true}`,
		`{"id":1,"vendor":{"id":1.5}}`, `{"id":1,"vendor":{"name":{}}}`, `{"id":1,"vendor":{"id":true}}`, `{"id":1,"vendor":{"name":[]}}`,
		// Nested objects: unknown keys, missing ids, names of other kinds.
		`{"id":1,"vendor":{"id":77,"name":"Acme","extra":{"deep":[1,{"x":null}]},"id_str":"x"},"permission_template":{"ID":"41","Name":"PM","name2":1},"unknown":{"nested":{"arr":[[],{}]}},"tags":["a","b"]}`,
		`{"id":1,"vendor":{"name":"x"},"permission_template":{},"company_permission_template":{"id":null,"name":null}}`,
		`{"id":1,"vendor":{"id":"77","name":77},"permission_template":{"id":" 5 ","name":true},"company_permission_template":{"id":"x","name":"y"}}`,
		// Duplicates: the last wins, and a repeated object updates the earlier one.
		`{"id":1,"id":2,"name":"a","name":null,"first_name":null,"first_name":"b","is_active":true,"is_active":null,"vendor_id":5,"vendor_id":"x"}`,
		`{"id":1,"vendor":{"id":1,"name":"a"},"vendor":{"id":2},"permission_template":{"id":3},"permission_template":null,"company_permission_template":null,"company_permission_template":{"name":"n"}}`,
		`{"id":1,"vendor":{"id":1,"name":"a"},"vendor":{"name":"b"},"permission_template":{"id":3,"id":"x"},"company_permission_template":{"name":"n","id":4,"name":null}}`,
		`{"id":1,"created_at":"2024-01-02T03:04:05Z","created_at":null,"updated_at":"x","updated_at":"2024-01-02"}`,
		// Names matched case-insensitively, with Unicode folding (K, ſ), and escaped.
		`{"ID":5,"First_Name":"A","LAST_NAME":"B","wor\u212a_classification_id":3,"i\u017f_active":true,"Vendor":{"Id":7,"NAME":"v"},"Is_Active":false}`,
		"{\"id\":1,\"wor\xe2\x84\xaa_classification_id\":3,\"\xc5\xbfTATE_CODE\":\"OR\",\"Notes\":\"n\",\"NOTES\":\"m\"}",
		`{"\u0069d":1,"na\u006de":"x","first\u005fname":"y","\u0056endor":{"\u0069D":3}}`,
		`{"id":1,"iD":2,"Id":3,"name ":"x"," name":"y","nam":"z","namee":"w","":"empty"}`,
		// Escapes, surrogates and invalid UTF-8, in values and names.
		`{"id":1,"name":"\u00e9\"\\\/\b\f\n\r\t","notes":"\ud83c\udfd7","city":"\ud800","address":"\ud800\u0041","job_title":"\udc00\ud800","initials":"\u0000","avatar":"\uD83D\uDE00"}`,
		"{\"id\":1,\"name\":\"\xff\xfe\",\"notes\":\"a\xc3\",\"city\":\"\xed\xa0\x80\",\"zip\":\"\xef\xbf\xbd\",\"origin_id\":\"\xf4\x90\x80\x80\"}",
		"{\"id\":1,\"na\xffme\":\"x\",\"\xff\":1,\"vendor\":{\"\xffid\":2,\"id\":3}}",
		"{\"id\":\"1\xff\",\"vendor_id\":\"\xff12\",\"business_phone_extension\":\"\\u00a07\"}",
		// Timestamps in every layout, and values that are not timestamps.
		`{"id":1,"last_login_at":"2024-01-02 03:04:05 -0700","welcome_email_sent_at":"2024-01-02 03:04:05 PST","created_at":"2024-01-02T03:04:05","updated_at":"2024-01-02"}`,
		`{"id":1,"last_login_at":"2024-01-02T03:04:05.123456789+05:30","welcome_email_sent_at":"2024-01-02T03:04:05.5Z","created_at":"2024-01-02T03:04:05+0100","updated_at":"2024-01-02 03:04:05 UTC"}`,
		`{"id":1,"last_login_at":123,"created_at":{"a":1},"updated_at":[1],"welcome_email_sent_at":true}`,
		`{"id":1,"last_login_at":"yesterday","created_at":"","updated_at":"2024-13-45","welcome_email_sent_at":"2024-01-02T03:04:05\u005a"}`,
		`{"id":1,"last_login_at":"2024-02-29T23:59:59Z","welcome_email_sent_at":"2023-02-29T00:00:00Z","created_at":"2024-04-31T00:00:00Z","updated_at":"0000-01-01T00:00:00Z"}`,
		`{"id":1,"last_login_at":"2024-01-01T24:00:00Z","welcome_email_sent_at":"2024-01-01T00:60:00Z","created_at":"2024-01-01T00:00:60Z","updated_at":"2024-00-01T00:00:00Z"}`,
		`{"id":1,"last_login_at":"2024-01-01t00:00:00z","welcome_email_sent_at":"2024-01-01T00:00:00z","created_at":"+024-01-01T00:00:00Z","updated_at":"2024-01-01T00:00:0AZ"}`,
		`{"id":1,"last_login_at":"9999-12-31T23:59:59Z","welcome_email_sent_at":"2024-01-01T00:00:00.000Z","created_at":"2024-1-01T00:00:00Z","updated_at":"2024-01-01T00:00:00+00:00"}`,
		// Spacing, inside the JSON and (Unicode spaces too) around it.
		"\n\t {\r\n \"id\" : 1 ,\n\"name\":\t\"x\" ,\"vendor\" : { \"id\" : 2 } }\n",
		"\v{\"id\":1}\u00a0", "\u0085{\"id\":1}\u2028", "\ufeff{\"id\":1}",
		// Malformed documents and values.
		"", " ", "[]", "null", `"x"`, "{", "{}", "<html>", `{"id":1,}`, `{"id":1}x`, `{"id":1}{"id":2}`, `{"id":1}]`,
		`{"id":01}`, `{"id":-}`, `{"id":1.}`, `{"id":.5}`, `{"id":+1}`, `{"id":1,"name":"a`+"\t"+`b"}`, `{"id":1,"name":"\x"}`,
		`{'id':1}`, `{"id":1 "name":"x"}`, `{"id":1,"name"}`, `{"id":1,"name":}`, `{id:1}`, `{"id":1,"notes":"unterminated}`,
		`{"id":1,"x":[1,2}`, `{"id":1,"x":nul}`, `{"id":1,"x":True}`, `{"id":1,"vendor":{"id":1,}}`, `{"id":1,"vendor":{"id":1}`,
		`{"id":1,"x":{"a":1,"a":2}}`, `{"id":1,"x":"\u12"}`, `{"id":1,"x":"\ud800\u12"}`, `{"id":1,2:3}`, `{"id":1,"x":[,]}`,
		// Values beyond decodeUser's stack buffers: long text, long escaped
		// names and quoted numbers.
		`{"id":1,"notes":"`+strings.Repeat("n\u00e9", 700)+`","email_signature":"`+strings.Repeat("s", 1500)+`","vendor":{"id":2,"name":"`+strings.Repeat("v", 900)+`"}}`,
		`{"id":1,"`+strings.Repeat(`\u0078`, 40)+`":1,"`+strings.Repeat("y", 100)+`":2,"vendor_id":"`+strings.Repeat(" ", 80)+`12","business_phone_extension":"`+strings.Repeat("0", 70)+`9"}`,
		`{"id":1,"zip":`+strings.Repeat("9", 400)+`,"vendor_id":`+strings.Repeat("1", 40)+`.0e-20}`,
		// Deep nesting in a skipped value.
		`{"id":1,"x":`+strings.Repeat("[", 100)+strings.Repeat("]", 100)+`}`,
		`{"id":1,"x":`+strings.Repeat(`{"a":`, 50)+"null"+strings.Repeat("}", 50)+`}`,
	)
}

// decodeUserError matches every message decodeUser may fail with. Each
// names a member, a JSON kind or an offset, never the body's text, which
// carries personal data: matching this is how the tests check that.
func decodeUserError() *regexp.Regexp {
	return regexp.MustCompile(`^decode user: (body is not a JSON object|no id|` +
		`invalid JSON at offset \d+(: (unexpected EOF|data after the object))?|` +
		`field [a-z_]+(\.id|\.name)?: (unexpected JSON (number|string|bool|object|array)|not an integer|not a string))$`)
}

// decodeUserGolden is what the encoding/json decoder the service started
// with made of each body of decodeUserSeeds and directorySeedUsers (a User,
// or an error), and a digest of what it made of every decodeVariants body:
// the behaviour decodeUser must keep, recorded once in
// testdata/decode_user_golden.json.
type decodeUserGolden struct {
	Seeds []struct {
		User  json.RawMessage `json:"user"`
		Error bool            `json:"error"`
	} `json:"seeds"`
	VariantsSHA256 string `json:"variants_sha256"`
}

func loadDecodeUserGolden(t testing.TB) decodeUserGolden {
	t.Helper()
	data, err := os.ReadFile("testdata/decode_user_golden.json")
	if err != nil {
		t.Fatal(err)
	}
	var g decodeUserGolden
	if err := json.Unmarshal(data, &g); err != nil {
		t.Fatal(err)
	}
	return g
}

// decodeOutcome is decodeUser's result on body as the golden file records
// it: the User rendered as JSON, or "error". It also fails t when an error
// message could show the body.
func decodeOutcome(t testing.TB, body []byte) string {
	t.Helper()
	u, err := decodeUser(body)
	if err != nil {
		if !decodeUserError().MatchString(err.Error()) {
			t.Fatalf("decodeUser(%q): unexpected error message %q", body, err)
		}
		return "error"
	}
	return describeUser(u)
}

// decodeVariants returns every truncation of the real answers, and every
// one-byte change to the update answer into a character that matters to
// JSON.
func decodeVariants() [][]byte {
	var out [][]byte
	for _, s := range append([]string{emulatorUserJSON}, emulatorShowAnswers()...) {
		for i := range len(s) {
			out = append(out, []byte(s[:i]))
		}
	}
	body := []byte(emulatorUserJSON)
	for i := range body {
		for _, c := range []byte(`"\{}[]:,0 nK`) {
			mutated := bytes.Clone(body)
			mutated[i] = c
			out = append(out, mutated)
		}
	}
	return out
}

// describeUser renders u with its pointers followed, for failure messages
// and the golden file. The members of Procore's published answer that the
// decoder learned later (contact_id to verified_employee, the last fields
// of User) are left out when all are absent, so that the golden digest,
// recorded before they existed, still proves every other field decodes as
// it always did.
func describeUser(u *User) string {
	b, err := json.Marshal(u)
	if err != nil {
		return err.Error()
	}
	const absentPublished = `,"ContactID":null,"BusinessID":null,"IsInsuranceManager":null,"Role":null,"VerifiedEmployee":null}`
	if s, ok := strings.CutSuffix(string(b), absentPublished); ok {
		return s + "}"
	}
	return string(b)
}

func TestDecodeUserMatchesGolden(t *testing.T) {
	g := loadDecodeUserGolden(t)
	seeds := append(userDecodeSeeds(), directorySeedUsers(t)...)
	if len(seeds) != len(g.Seeds) {
		t.Fatalf("%d seeds, the golden file has %d", len(seeds), len(g.Seeds))
	}
	for i, s := range seeds {
		want := "error"
		if !g.Seeds[i].Error {
			var b bytes.Buffer
			if err := json.Compact(&b, g.Seeds[i].User); err != nil {
				t.Fatal(err)
			}
			want = b.String()
		}
		if got := decodeOutcome(t, []byte(s)); got != want {
			t.Errorf("decodeUser(%q):\n got %s\nwant %s", s, got, want)
		}
	}
	h := sha256.New()
	for _, body := range decodeVariants() {
		h.Write([]byte(decodeOutcome(t, body) + "\n"))
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != g.VariantsSHA256 {
		t.Errorf("truncated and mutated answers decode differently: digest %s, want %s", got, g.VariantsSHA256)
	}
}

// directorySeedUsers returns the user records of the emulator's seed file,
// as written there: the same users as emulatorShowAnswers, in the seed's
// own spacing and escaping (\u00eb, \u0141) and without the members the
// emulator adds when it renders them.
func directorySeedUsers(t testing.TB) []string {
	t.Helper()
	data, err := os.ReadFile("procoretest/directory.json")
	if err != nil {
		t.Fatal(err)
	}
	var seed struct {
		Companies []struct {
			Users []json.RawMessage `json:"users"`
		} `json:"companies"`
	}
	if err := json.Unmarshal(data, &seed); err != nil {
		t.Fatal(err)
	}
	var users []string
	for _, c := range seed.Companies {
		for _, u := range c.Users {
			users = append(users, string(u))
		}
	}
	if len(users) == 0 {
		t.Fatal("no users in procoretest/directory.json")
	}
	return users
}

// TestDecodeUserNesting checks the nesting limit, 10000 levels counting the
// user object, which encoding/json and jsontext share.
func TestDecodeUserNesting(t *testing.T) {
	for _, depth := range []int{9999, 10000, 10001} {
		inner := depth - 1
		body := []byte(`{"id":1,"x":` + strings.Repeat("[", inner) + strings.Repeat("]", inner) + `}`)
		decodeOutcome(t, body)
		if _, err := decodeUser(body); (err == nil) != (depth <= 10000) {
			t.Errorf("depth %d: err = %v", depth, err)
		}
	}
}

func TestDecodeUserErrorsHideValues(t *testing.T) {
	const secret = "ana.diaz@private.example"
	for _, body := range []string{
		`{"id":1,"email_address":"` + secret + `","first_name":5}`,
		`{"id":1,"email_address":["` + secret + `"]}`,
		`{"id":1,"mobile_phone":{"` + secret + `":1}}`,
		`{"id":1,"email_address":"` + secret + `" "x":1}`,
		`{"id":1,"email_address":"` + secret + "\x01" + `"}`,
		`{"id":1,"` + secret + `":x}`,
		`{"id":1,"` + secret + `":{"` + secret + `":[1,2}}`,
		`{"id":1,"vendor":{"name":"` + secret + `","id":1.5}}`,
		`{"id":1,"email_address":"` + secret + `"}` + secret,
		`{"id":1,"email_address":"` + secret + ``,
		`{"id":"` + secret + `"}`,
		`{"id":1,"business_phone_extension":"` + secret + `","vendor_id":` + strings.Repeat("9", 30) + `.5}`,
	} {
		_, err := decodeUser([]byte(body))
		if err == nil {
			t.Errorf("decodeUser(%q) succeeded", body)
			continue
		}
		if strings.Contains(err.Error(), "ana") || strings.Contains(err.Error(), "99999") || !decodeUserError().MatchString(err.Error()) {
			t.Errorf("decodeUser(%q) = %q: the message shows the body", body, err)
		}
	}
}

// TestDecodeUserTruncatedIsUnexpectedEOF checks that a cut-off body, the
// usual sign of a dropped connection, is recognisable without its text.
func TestDecodeUserTruncatedIsUnexpectedEOF(t *testing.T) {
	_, err := decodeUser([]byte(emulatorUserJSON[:500]))
	if !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("truncated body: %v, want io.ErrUnexpectedEOF", err)
	}
}

// TestDecodeUserDoesNotAliasBody checks that the User owns its strings:
// callers may reuse the body's buffer once decodeUser returns.
func TestDecodeUserDoesNotAliasBody(t *testing.T) {
	body := []byte(emulatorUserJSON)
	u, err := decodeUser(body)
	if err != nil {
		t.Fatal(err)
	}
	want := describeUser(u)
	for i := range body {
		body[i] = 'X'
	}
	if got := describeUser(u); got != want {
		t.Errorf("overwriting the body changed the User:\n got %s\nwant %s", got, want)
	}
}

// FuzzDecodeUser checks decodeUser on any body: it never panics, its
// errors never show the body, whatever it accepts is JSON (encoding/json
// agrees), and on the recorded cases it gives the recorded outcome.
func FuzzDecodeUser(f *testing.F) {
	g := loadDecodeUserGolden(f)
	seeds := append(userDecodeSeeds(), directorySeedUsers(f)...)
	want := make(map[string]string, len(seeds))
	for i, s := range seeds {
		f.Add([]byte(s))
		w := "error"
		if !g.Seeds[i].Error {
			var b bytes.Buffer
			if err := json.Compact(&b, g.Seeds[i].User); err != nil {
				f.Fatal(err)
			}
			w = b.String()
		}
		want[s] = w
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		got := decodeOutcome(t, body)
		if w, ok := want[string(body)]; ok && got != w {
			t.Fatalf("decodeUser(%q):\n got %s\nwant %s", body, got, w)
		}
		if got != "error" && !json.Valid(bytes.TrimSpace(body)) {
			t.Fatalf("decodeUser(%q) accepts what encoding/json calls invalid", body)
		}
	})
}
