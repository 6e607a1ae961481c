package upstream

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/go-json-experiment/json/jsontext"
)

// NamedRef is a reference Procore embeds in a user: a vendor or a
// permission template.
type NamedRef struct {
	ID   int64
	Name string
}

// User is a Procore company user as show and update return it. Fields
// Procore may send as null are pointers; unknown JSON fields are ignored,
// because Procore adds fields without notice.
type User struct {
	ID                          int64
	Name                        *string
	FirstName                   *string
	LastName                    *string
	JobTitle                    *string
	Address                     *string
	City                        *string
	Zip                         *string
	BusinessPhone               *string
	BusinessPhoneExtension      *int64 // Procore libraries disagree: JSON integer or numeric string
	MobilePhone                 *string
	FaxNumber                   *string
	EmailAddress                *string
	EmailSignature              *string
	IsActive                    *bool
	IsEmployee                  *bool
	AddToNewProjects            *bool
	EmployeeID                  *string // JSON string or integer
	Notes                       *string
	CountryCode                 *string
	StateCode                   *string
	Initials                    *string
	OriginID                    *string
	OriginData                  *string
	VendorID                    *int64
	DefaultPermissionTemplateID *int64
	CompanyPermissionTemplateID *int64
	WorkClassificationID        *int64
	Vendor                      *NamedRef
	PermissionTemplate          *NamedRef
	CompanyPermissionTemplate   *NamedRef
	Avatar                      *string
	LastLoginAt                 *time.Time
	WelcomeEmailSentAt          *time.Time
	CreatedAt                   *time.Time
	UpdatedAt                   *time.Time
}

// decodeUser decodes a show/update body. The top level must be a JSON
// object with an id; anything else is an undecodable response.
//
// It streams the body through a jsontext.Decoder and decodes each known
// member straight into place, because encoding/json's reflection, its
// separate validation pass and its allocation per field made decoding the
// most expensive step of a request. What it accepts and the User it builds
// are those of the encoding/json decoder it replaced (kept as the oracle in
// user_oracle_test.go, which FuzzDecodeUser compares it with): the per-kind
// rules are on memberKind. Its errors name members, JSON kinds and offsets,
// never the body's text, which carries personal data.
func decodeUser(body []byte) (*User, error) {
	trimmed := bytes.TrimSpace(body) // Unicode spaces too, as before
	if len(trimmed) == 0 || trimmed[0] != '{' {
		return nil, errors.New("decode user: body is not a JSON object")
	}
	// Decoded text is gathered in one buffer, on the stack unless the body
	// is unusually large, and becomes one string at the end: all of a
	// user's strings cost one allocation.
	var stack [1024]byte
	var d userDecoder
	arena, err := d.decode(trimmed, stack[:0])
	if err != nil {
		return nil, fmt.Errorf("decode user: %w", err)
	}
	if !d.ints[umID-umID].set {
		return nil, errors.New("decode user: no id")
	}
	return d.user(string(arena)), nil
}

// userMember is a member of Procore's user object that decodeUser keeps.
// The order matters: members whose value is text come first, so that a
// member indexes userDecoder.text directly, and each memberKind is one
// contiguous range (see kind).
type userMember uint8

// The members, in the order described on userMember.
const (
	umName                        userMember = iota // "name"
	umFirstName                                     // "first_name"
	umLastName                                      // "last_name"
	umJobTitle                                      // "job_title"
	umAddress                                       // "address"
	umCity                                          // "city"
	umEmailAddress                                  // "email_address"
	umEmailSignature                                // "email_signature"
	umNotes                                         // "notes"
	umCountryCode                                   // "country_code"
	umStateCode                                     // "state_code"
	umInitials                                      // "initials"
	umOriginData                                    // "origin_data"
	umAvatar                                        // "avatar"
	umZip                                           // "zip"
	umBusinessPhone                                 // "business_phone"
	umMobilePhone                                   // "mobile_phone"
	umFaxNumber                                     // "fax_number"
	umEmployeeID                                    // "employee_id"
	umOriginID                                      // "origin_id"
	umLastLoginAt                                   // "last_login_at"
	umWelcomeEmailSentAt                            // "welcome_email_sent_at"
	umCreatedAt                                     // "created_at"
	umUpdatedAt                                     // "updated_at"
	umID                                            // "id"
	umBusinessPhoneExtension                        // "business_phone_extension"
	umVendorID                                      // "vendor_id"
	umDefaultPermissionTemplateID                   // "default_permission_template_id"
	umCompanyPermissionTemplateID                   // "company_permission_template_id"
	umWorkClassificationID                          // "work_classification_id"
	umIsActive                                      // "is_active"
	umIsEmployee                                    // "is_employee"
	umAddToNewProjects                              // "add_to_new_projects"
	umVendor                                        // "vendor"
	umPermissionTemplate                            // "permission_template"
	umCompanyPermissionTemplate                     // "company_permission_template"

	// numUserMembers counts the members above.
	numUserMembers
	// umUnknown is any other member: its value is validated and skipped,
	// because Procore adds members without notice.
	umUnknown = numUserMembers
	// numTextMembers counts the members whose decoded value is text: the
	// strings and the timestamps, which are parsed once decoding ends.
	numTextMembers = umID
)

// userMemberNames returns the JSON names of the members, indexed by
// userMember. It is a function returning an array, not a package
// variable, so nothing can mutate it.
func userMemberNames() [numUserMembers]string {
	return [...]string{
		"name", "first_name", "last_name", "job_title", "address", "city",
		"email_address", "email_signature", "notes", "country_code",
		"state_code", "initials", "origin_data", "avatar",
		"zip", "business_phone", "mobile_phone", "fax_number", "employee_id",
		"origin_id",
		"last_login_at", "welcome_email_sent_at", "created_at", "updated_at",
		"id", "business_phone_extension", "vendor_id",
		"default_permission_template_id", "company_permission_template_id",
		"work_classification_id",
		"is_active", "is_employee", "add_to_new_projects",
		"vendor", "permission_template", "company_permission_template",
	}
}

// String returns the member's JSON name, for error messages.
func (m userMember) String() string {
	if m >= numUserMembers {
		return "unknown"
	}
	return userMemberNames()[m]
}

// memberKind is how a member's JSON value is read. Each kind reproduces
// what the encoding/json decoder did with the Go type it gave the member.
type memberKind uint8

// The kinds, each named after the type the encoding/json decoder used.
const (
	// mkString (*string): a string, or null for absent; any other JSON
	// kind fails the decoding.
	mkString memberKind = iota
	// mkFlexString (flexString): a string, a number or a boolean as its
	// text, or null for absent; an object or array fails the decoding.
	mkFlexString
	// mkTime (flexTime): a string holding a timestamp in one of the
	// layouts parseUserTime tries; anything else, including unparseable
	// text, is absent, never an error.
	mkTime
	// mkFlexInt (flexInt): an integer, an integral number of magnitude at
	// most 2^53, or a string holding a base-10 int64, possibly between
	// Unicode spaces; other strings and null are absent, anything else
	// fails.
	mkFlexInt
	// mkBool (*bool): true, false, or null for absent; anything else fails.
	mkBool
	// mkRef (*wireRef): an object with an mkFlexInt "id" and an
	// mkFlexString "name", or null; anything else fails. A repeated object
	// updates the earlier one rather than replacing it, as encoding/json
	// decoded into the struct the pointer already held.
	mkRef
)

// kind returns how m's value is read.
func (m userMember) kind() memberKind {
	switch {
	case m < umZip:
		return mkString
	case m < umLastLoginAt:
		return mkFlexString
	case m < umID:
		return mkTime
	case m < umIsActive:
		return mkFlexInt
	case m < umVendor:
		return mkBool
	}
	return mkRef
}

// userMemberOf returns the member a JSON member name (unescaped) denotes.
// An exact match is tried first, as encoding/json did, and is the only
// case that costs nothing more than this switch.
func userMemberOf(name []byte) userMember {
	switch string(name) {
	case "id":
		return umID
	case "name":
		return umName
	case "first_name":
		return umFirstName
	case "last_name":
		return umLastName
	case "job_title":
		return umJobTitle
	case "address":
		return umAddress
	case "city":
		return umCity
	case "zip":
		return umZip
	case "business_phone":
		return umBusinessPhone
	case "business_phone_extension":
		return umBusinessPhoneExtension
	case "mobile_phone":
		return umMobilePhone
	case "fax_number":
		return umFaxNumber
	case "email_address":
		return umEmailAddress
	case "email_signature":
		return umEmailSignature
	case "is_active":
		return umIsActive
	case "is_employee":
		return umIsEmployee
	case "add_to_new_projects":
		return umAddToNewProjects
	case "employee_id":
		return umEmployeeID
	case "notes":
		return umNotes
	case "country_code":
		return umCountryCode
	case "state_code":
		return umStateCode
	case "initials":
		return umInitials
	case "origin_id":
		return umOriginID
	case "origin_data":
		return umOriginData
	case "vendor_id":
		return umVendorID
	case "default_permission_template_id":
		return umDefaultPermissionTemplateID
	case "company_permission_template_id":
		return umCompanyPermissionTemplateID
	case "work_classification_id":
		return umWorkClassificationID
	case "vendor":
		return umVendor
	case "permission_template":
		return umPermissionTemplate
	case "company_permission_template":
		return umCompanyPermissionTemplate
	case "avatar":
		return umAvatar
	case "last_login_at":
		return umLastLoginAt
	case "welcome_email_sent_at":
		return umWelcomeEmailSentAt
	case "created_at":
		return umCreatedAt
	case "updated_at":
		return umUpdatedAt
	}
	if !mayFold(name) {
		return umUnknown
	}
	for m, known := range userMemberNames() {
		if bytes.EqualFold(name, []byte(known)) {
			return userMember(m)
		}
	}
	return umUnknown
}

// refMember is a member of an {id, name} reference object.
type refMember uint8

// The members of a reference object.
const (
	refUnknown refMember = iota // skipped, like unknown user members
	refID                       // "id", read as mkFlexInt
	refName                     // "name", read as mkFlexString
)

// refMemberOf returns the reference member a JSON member name denotes,
// matching as userMemberOf does.
func refMemberOf(name []byte) refMember {
	switch string(name) {
	case "id":
		return refID
	case "name":
		return refName
	}
	switch {
	case !mayFold(name):
		return refUnknown
	case bytes.EqualFold(name, []byte("id")):
		return refID
	case bytes.EqualFold(name, []byte("name")):
		return refName
	}
	return refUnknown
}

// mayFold reports whether a name that matched no member exactly could
// still match one case-insensitively. encoding/json accepted a member name
// equal to a field's under bytes.EqualFold ("ID", "First_Name", and, by
// Unicode simple folding, U+212A KELVIN SIGN for k and U+017F LONG S for
// s), so decodeUser must too; the member names are lower-case ASCII, so
// only a name with an upper-case letter or a non-ASCII byte can, and every
// other unknown name (the common case) skips the comparisons.
func mayFold(name []byte) bool {
	for _, c := range name {
		if c >= utf8.RuneSelf || 'A' <= c && c <= 'Z' {
			return true
		}
	}
	return false
}

// textSpan locates a decoded text value in the arena, the buffer where
// decodeUser gathers them.
type textSpan struct {
	start, end int
	set        bool // false: absent (null, or never seen)
}

// intValue is a decoded mkFlexInt value.
type intValue struct {
	v   int64
	set bool // false: absent
}

// boolValue is a decoded mkBool value.
type boolValue struct {
	v   bool
	set bool // false: absent
}

// refValue is a decoded mkRef value.
type refValue struct {
	id      intValue
	name    textSpan
	present bool // false: null or never seen
}

// userDecoder holds the values decodeUser has decoded so far, one slot per
// member, overwritten by each occurrence: the last duplicate wins, as with
// encoding/json. Text is only located here; its bytes are in the arena.
//
// The arena, a scratch buffer and the jsontext.Decoder are passed to the
// methods rather than kept in fields, and the arena is handed back by the
// methods that append to it: escape analysis does not tell one field from
// another, and storing through the receiver would move the arena, which
// should stay on decodeUser's stack, to the heap.
type userDecoder struct {
	text  [numTextMembers]textSpan
	ints  [umIsActive - umID]intValue         // indexed by member - umID
	bools [umVendor - umIsActive]boolValue    // indexed by member - umIsActive
	refs  [numUserMembers - umVendor]refValue // indexed by member - umVendor
}

// decode reads the object body holds (decodeUser checked it starts with
// '{'), appending decoded text to arena, and checks that nothing follows
// the object. It returns the arena.
func (d *userDecoder) decode(body, arena []byte) ([]byte, error) {
	// The decoder reads a bytes.Buffer in place, without copying it.
	// Duplicate names are allowed, the last one winning, and so is invalid
	// UTF-8, replaced by U+FFFD: encoding/json did both.
	dec := jsontext.NewDecoder(bytes.NewBuffer(body),
		jsontext.AllowDuplicateNames(true), jsontext.AllowInvalidUTF8(true))
	if _, err := dec.ReadToken(); err != nil {
		return arena, syntaxError(err)
	}
	// Unescaped names and numeric strings; only names with escapes and
	// quoted integers need it.
	var scratch [64]byte
	for {
		name, end, err := nextName(dec, scratch[:0])
		if err != nil {
			return arena, err
		}
		if end {
			break
		}
		if arena, err = d.member(dec, arena, scratch[:0], userMemberOf(name)); err != nil {
			return arena, err
		}
	}
	// body has no trailing spaces (decodeUser trimmed them), so anything
	// after the object is another value or garbage, which encoding/json
	// refused.
	if off := dec.InputOffset(); off != int64(len(body)) {
		return arena, fmt.Errorf("invalid JSON at offset %d: data after the object", off)
	}
	return arena, nil
}

// nextName reads the name of the current object's next member, or
// consumes the object's end and reports end. A name with escapes is
// unescaped into buf; any other is returned as it is, even with invalid
// UTF-8 which encoding/json replaced with U+FFFD first: neither form
// matches a member name, exactly or case-insensitively.
func nextName(dec *jsontext.Decoder, buf []byte) (name []byte, end bool, err error) {
	if dec.PeekKind() == jsontext.KindEndObject {
		if _, err := dec.ReadToken(); err != nil {
			return nil, false, syntaxError(err)
		}
		return nil, true, nil
	}
	lit, err := dec.ReadValue() // where a name is due, only a string is valid
	if err != nil {
		return nil, false, syntaxError(err)
	}
	if inner := lit[1 : len(lit)-1]; isPlainASCII(inner) || bytes.IndexByte(inner, '\\') < 0 {
		return inner, false, nil
	}
	return unquote(buf, lit), false, nil
}

// member reads the value of member m into its slot, appending any text to
// arena, or skips the value of an unknown member. It returns the arena.
func (d *userDecoder) member(dec *jsontext.Decoder, arena, scratch []byte, m userMember) ([]byte, error) {
	switch {
	case m == umUnknown:
		if err := dec.SkipValue(); err != nil {
			return arena, syntaxError(err)
		}
		return arena, nil
	case m.kind() == mkRef:
		return readRef(dec, arena, scratch, &d.refs[m-umVendor], m)
	}
	v, err := dec.ReadValue()
	if err != nil {
		return arena, syntaxError(err)
	}
	switch m.kind() {
	case mkString:
		switch v[0] {
		case 'n':
			d.text[m] = textSpan{}
		case '"':
			arena, d.text[m] = appendText(arena, v)
		default:
			return arena, kindError(m.String(), v)
		}
	case mkFlexString:
		var ok bool
		if arena, d.text[m], ok = decodeFlexString(arena, v); !ok {
			return arena, fmt.Errorf("field %s: not a string", m)
		}
	case mkTime:
		// Only the text is kept now: user parses the last occurrence's.
		d.text[m] = textSpan{}
		if v[0] == '"' {
			arena, d.text[m] = appendText(arena, v)
		}
	case mkFlexInt:
		var ok bool
		if d.ints[m-umID], ok = decodeFlexInt(scratch, v); !ok {
			return arena, fmt.Errorf("field %s: not an integer", m)
		}
	case mkBool:
		switch v[0] {
		case 'n':
			d.bools[m-umIsActive] = boolValue{}
		case 't', 'f':
			d.bools[m-umIsActive] = boolValue{v: v[0] == 't', set: true}
		default:
			return arena, kindError(m.String(), v)
		}
	}
	return arena, nil
}

// readRef reads the value of reference member m into r, appending its
// name to arena, and returns the arena. An object updates r in place
// (members it lacks keep their earlier values) and null clears it, as
// encoding/json did with the *wireRef pointer.
func readRef(dec *jsontext.Decoder, arena, scratch []byte, r *refValue, m userMember) ([]byte, error) {
	switch dec.PeekKind() {
	case jsontext.KindBeginObject:
	case jsontext.KindNull:
		if _, err := dec.ReadValue(); err != nil {
			return arena, syntaxError(err)
		}
		*r = refValue{}
		return arena, nil
	default: // another kind, or KindInvalid if the input is malformed
		v, err := dec.ReadValue()
		if err != nil {
			return arena, syntaxError(err)
		}
		return arena, kindError(m.String(), v)
	}
	if _, err := dec.ReadToken(); err != nil {
		return arena, syntaxError(err)
	}
	r.present = true
	for {
		name, end, err := nextName(dec, scratch[:0])
		if err != nil {
			return arena, err
		}
		if end {
			return arena, nil
		}
		which := refMemberOf(name)
		if which == refUnknown {
			if err := dec.SkipValue(); err != nil {
				return arena, syntaxError(err)
			}
			continue
		}
		v, err := dec.ReadValue()
		if err != nil {
			return arena, syntaxError(err)
		}
		var ok bool
		if which == refID {
			if r.id, ok = decodeFlexInt(scratch, v); !ok {
				return arena, fmt.Errorf("field %s.id: not an integer", m)
			}
			continue
		}
		if arena, r.name, ok = decodeFlexString(arena, v); !ok {
			return arena, fmt.Errorf("field %s.name: not a string", m)
		}
	}
}

// appendText appends the unescaped contents of the string literal lit to
// arena and returns the arena and where they are.
func appendText(arena, lit []byte) ([]byte, textSpan) {
	start := len(arena)
	arena = unquote(arena, lit)
	return arena, textSpan{start: start, end: len(arena), set: true}
}

// decodeFlexString decodes an mkFlexString value, appending its text to
// arena; ok is false for the kinds it refuses (objects and arrays).
func decodeFlexString(arena, v []byte) (_ []byte, span textSpan, ok bool) {
	switch v[0] {
	case 'n':
		return arena, textSpan{}, true
	case '"':
		arena, span = appendText(arena, v)
		return arena, span, true
	case '{', '[':
		return arena, textSpan{}, false
	}
	// A number or a boolean, kept as written (214.0 stays "214.0").
	start := len(arena)
	arena = append(arena, v...)
	return arena, textSpan{start: start, end: len(arena), set: true}, true
}

// decodeFlexInt decodes an mkFlexInt value, using scratch to unescape
// strings; ok is false for the values it refuses: non-integral or too
// large numbers, booleans, objects and arrays.
func decodeFlexInt(scratch, v []byte) (n intValue, ok bool) {
	switch v[0] {
	case 'n':
		return intValue{}, true
	case '"':
		// Strings never fail: "", "12.0" and "abc" are absent, " 12 " is 12.
		if x, ok := parseInt64(bytes.TrimSpace(unquote(scratch, v))); ok {
			return intValue{v: x, set: true}, true
		}
		return intValue{}, true
	case 't', 'f', '{', '[':
		return intValue{}, false // what strconv.ParseFloat refuses
	}
	if x, ok := parseInt64(v); ok {
		return intValue{v: x, set: true}, true
	}
	// 214.0, 2.14e2, -0.0; 2^53 bounds what a float64 holds exactly.
	x, err := strconv.ParseFloat(string(v), 64)
	if err != nil || x != math.Trunc(x) || math.Abs(x) > 1<<53 {
		return intValue{}, false
	}
	return intValue{v: int64(x), set: true}, true
}

// parseInt64 is strconv.ParseInt(string(b), 10, 64) with a fast path for
// the common case, plain digits that cannot overflow, which needs neither
// the conversion nor ParseInt's generality.
func parseInt64(b []byte) (int64, bool) {
	digits, neg := b, false
	if len(digits) > 0 && digits[0] == '-' {
		digits, neg = digits[1:], true
	}
	if n, ok := smallDecimal(digits); ok {
		if neg {
			n = -n
		}
		return n, true
	}
	n, err := strconv.ParseInt(string(b), 10, 64)
	return n, err == nil
}

// smallDecimal returns the value of 1 to 18 decimal digits, which cannot
// overflow an int64; ok is false for anything else, which parseInt64 then
// leaves to strconv.
func smallDecimal(digits []byte) (n int64, ok bool) {
	if len(digits) == 0 || len(digits) > 18 {
		return 0, false
	}
	for _, c := range digits {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	return n, true
}

// unquote appends the contents of the JSON string literal lit, which the
// decoder has validated, to dst, unescaped as encoding/json did: invalid
// UTF-8 bytes and unpaired surrogate escapes become U+FFFD. Literals
// without escapes and with valid UTF-8 (nearly all) are copied as they are.
func unquote(dst, lit []byte) []byte {
	if inner := lit[1 : len(lit)-1]; isPlainASCII(inner) || bytes.IndexByte(inner, '\\') < 0 && utf8.Valid(inner) {
		return append(dst, inner...)
	}
	// The error only reports replacements made, as the decoder has already
	// refused every literal that is not valid JSON: there is nothing to act
	// on, and the output is complete.
	dst, _ = jsontext.AppendUnquote(dst, lit)
	return dst
}

// isPlainASCII reports whether s has neither a backslash nor a non-ASCII
// byte. It checks eight bytes at a time, the last eight overlapping the
// others: the strings of a user are short, ASCII and unescaped, and for
// them bytes.IndexByte followed by utf8.Valid cost more in calls than in
// scanning.
func isPlainASCII(s []byte) bool {
	if len(s) < 8 {
		for _, c := range s {
			if c == '\\' || c >= utf8.RuneSelf {
				return false
			}
		}
		return true
	}
	for i := 0; i < len(s)-8; i += 8 {
		if !plainASCII8(binary.LittleEndian.Uint64(s[i:])) {
			return false
		}
	}
	return plainASCII8(binary.LittleEndian.Uint64(s[len(s)-8:]))
}

// plainASCII8 reports whether the eight bytes in x are ASCII and none is a
// backslash: x ^ 0x5c5c... has a zero byte where x has a backslash, and
// (v - 0x0101...) &^ v has the high bit set in some byte iff v has a zero
// byte, when no byte of v has its high bit set.
func plainASCII8(x uint64) bool {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	v := x ^ (ones * '\\')
	return (x|(v-ones)&^v)&highs == 0
}

// kindError reports a value of a JSON kind the field cannot take, naming
// the kind as encoding/json's UnmarshalTypeError did, never the value.
func kindError(field string, v []byte) error {
	kind := "number"
	switch v[0] {
	case '"':
		kind = "string"
	case 't', 'f':
		kind = "bool"
	case '{':
		kind = "object"
	case '[':
		kind = "array"
	}
	return fmt.Errorf("field %s: unexpected JSON %s", field, kind)
}

// syntaxError reports malformed JSON by its offset alone. jsontext's
// errors quote the offending input and the names of the members leading to
// it, either of which can carry personal data, so they are not wrapped;
// only a truncation is, as io.ErrUnexpectedEOF, which reveals nothing.
func syntaxError(err error) error {
	var se *jsontext.SyntacticError
	if !errors.As(err, &se) {
		return errors.New("invalid JSON")
	}
	if errors.Is(se.Err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("invalid JSON at offset %d: %w", se.ByteOffset, io.ErrUnexpectedEOF)
	}
	return fmt.Errorf("invalid JSON at offset %d", se.ByteOffset)
}

// userBlock is a User allocated together with the values its pointer
// fields point at, so that the result costs one allocation instead of one
// per field.
type userBlock struct {
	user  User
	strs  [umLastLoginAt]string
	times [umID - umLastLoginAt]time.Time
	ints  [umIsActive - umID]int64
	bools [umVendor - umIsActive]bool
	refs  [numUserMembers - umVendor]NamedRef
}

// user builds the decoded User from the slots and all, the arena as a
// string: its strings are substrings of all, and its pointers point into
// one userBlock.
func (d *userDecoder) user(all string) *User {
	b := new(userBlock)
	u := &b.user
	*u = User{
		ID:                          d.ints[umID-umID].v,
		Name:                        d.str(b, all, umName),
		FirstName:                   d.str(b, all, umFirstName),
		LastName:                    d.str(b, all, umLastName),
		JobTitle:                    d.str(b, all, umJobTitle),
		Address:                     d.str(b, all, umAddress),
		City:                        d.str(b, all, umCity),
		Zip:                         d.str(b, all, umZip),
		BusinessPhone:               d.str(b, all, umBusinessPhone),
		BusinessPhoneExtension:      d.integer(b, umBusinessPhoneExtension),
		MobilePhone:                 d.str(b, all, umMobilePhone),
		FaxNumber:                   d.str(b, all, umFaxNumber),
		EmailAddress:                d.str(b, all, umEmailAddress),
		EmailSignature:              d.str(b, all, umEmailSignature),
		IsActive:                    d.boolean(b, umIsActive),
		IsEmployee:                  d.boolean(b, umIsEmployee),
		AddToNewProjects:            d.boolean(b, umAddToNewProjects),
		EmployeeID:                  d.str(b, all, umEmployeeID),
		Notes:                       d.str(b, all, umNotes),
		CountryCode:                 d.str(b, all, umCountryCode),
		StateCode:                   d.str(b, all, umStateCode),
		Initials:                    d.str(b, all, umInitials),
		OriginID:                    d.str(b, all, umOriginID),
		OriginData:                  d.str(b, all, umOriginData),
		VendorID:                    d.integer(b, umVendorID),
		DefaultPermissionTemplateID: d.integer(b, umDefaultPermissionTemplateID),
		CompanyPermissionTemplateID: d.integer(b, umCompanyPermissionTemplateID),
		WorkClassificationID:        d.integer(b, umWorkClassificationID),
		Vendor:                      d.namedRef(b, all, umVendor),
		PermissionTemplate:          d.namedRef(b, all, umPermissionTemplate),
		CompanyPermissionTemplate:   d.namedRef(b, all, umCompanyPermissionTemplate),
		Avatar:                      d.str(b, all, umAvatar),
		LastLoginAt:                 d.timestamp(b, all, umLastLoginAt),
		WelcomeEmailSentAt:          d.timestamp(b, all, umWelcomeEmailSentAt),
		CreatedAt:                   d.timestamp(b, all, umCreatedAt),
		UpdatedAt:                   d.timestamp(b, all, umUpdatedAt),
	}
	// Show responses carry the objects but not always the ids.
	if u.VendorID == nil && u.Vendor != nil {
		u.VendorID = &u.Vendor.ID
	}
	if u.DefaultPermissionTemplateID == nil && u.PermissionTemplate != nil {
		u.DefaultPermissionTemplateID = &u.PermissionTemplate.ID
	}
	if u.CompanyPermissionTemplateID == nil && u.CompanyPermissionTemplate != nil {
		u.CompanyPermissionTemplateID = &u.CompanyPermissionTemplate.ID
	}
	return u
}

// str returns text member m's value, stored in b, or nil if absent.
func (d *userDecoder) str(b *userBlock, all string, m userMember) *string {
	s := d.text[m]
	if !s.set {
		return nil
	}
	b.strs[m] = all[s.start:s.end]
	return &b.strs[m]
}

// timestamp returns timestamp member m's value, stored in b, or nil if absent
// or unparseable.
func (d *userDecoder) timestamp(b *userBlock, all string, m userMember) *time.Time {
	s := d.text[m]
	if !s.set {
		return nil
	}
	t, ok := parseUserTime(all[s.start:s.end])
	if !ok {
		return nil
	}
	b.times[m-umLastLoginAt] = t
	return &b.times[m-umLastLoginAt]
}

// integer returns integer member m's value, stored in b, or nil if absent.
func (d *userDecoder) integer(b *userBlock, m userMember) *int64 {
	n := d.ints[m-umID]
	if !n.set {
		return nil
	}
	b.ints[m-umID] = n.v
	return &b.ints[m-umID]
}

// boolean returns boolean member m's value, stored in b, or nil if absent.
func (d *userDecoder) boolean(b *userBlock, m userMember) *bool {
	v := d.bools[m-umIsActive]
	if !v.set {
		return nil
	}
	b.bools[m-umIsActive] = v.v
	return &b.bools[m-umIsActive]
}

// namedRef returns reference member m's value, stored in b, or nil if it
// is absent, null or has no id.
func (d *userDecoder) namedRef(b *userBlock, all string, m userMember) *NamedRef {
	r := d.refs[m-umVendor]
	if !r.present || !r.id.set {
		return nil
	}
	ref := &b.refs[m-umVendor]
	ref.ID = r.id.v
	if r.name.set {
		ref.Name = all[r.name.start:r.name.end]
	}
	return ref
}

// parseUserTime parses a timestamp in the first of the layouts Procore's
// libraries are known to use that fits; timestamps are informational, so
// one that fits none is absent rather than an error.
func parseUserTime(s string) (time.Time, bool) {
	for _, layout := range [...]string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999Z0700", "2006-01-02 15:04:05 -0700", "2006-01-02 15:04:05 MST", "2006-01-02T15:04:05", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}
