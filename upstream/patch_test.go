package upstream

import (
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"testing"
)

func TestPatchAppendJSON(t *testing.T) {
	tests := []struct {
		name  string
		build func(p *Patch)
		want  string
	}{
		{"empty", func(p *Patch) {}, `{"user":{}}`},
		{"sorted kinds", func(p *Patch) {
			p.SetString("last_name", "Diaz")
			p.SetInt("vendor_id", 9007199254740993)
			p.SetBool("is_active", false)
			p.Clear("city")
			p.SetString("first_name", "Ana")
		}, `{"user":{"city":null,"first_name":"Ana","is_active":false,"last_name":"Diaz","vendor_id":9007199254740993}}`},
		{"later set wins", func(p *Patch) {
			p.SetString("notes", "a")
			p.Clear("notes")
			p.SetString("notes", "b")
		}, `{"user":{"notes":"b"}}`},
		{"escaping", func(p *Patch) {
			p.SetString("notes", "q\"b\\n\nt\tc\x01\x08 <&> \u2028 é \xff")
		}, "{\"user\":{\"notes\":\"q\\\"b\\\\n\\nt\\tc\\u0001\\b <&> \u2028 é \ufffd\"}}"},
		{"negative int", func(p *Patch) { p.SetInt("business_phone_extension", -5) }, `{"user":{"business_phone_extension":-5}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var p Patch
			tt.build(&p)
			got := string(p.AppendJSON(nil))
			if got != tt.want {
				t.Fatalf("got  %s\nwant %s", got, tt.want)
			}
			if !json.Valid([]byte(got)) {
				t.Fatalf("invalid JSON %s", got)
			}
			// Appends, does not overwrite.
			if got2 := string(p.AppendJSON([]byte("x"))); got2 != "x"+tt.want {
				t.Fatalf("append: %s", got2)
			}
		})
	}
}

func TestPatchAccessors(t *testing.T) {
	var p Patch
	p.SetString("last_name", "Diaz")
	p.SetInt("vendor_id", 7)
	p.SetBool("is_employee", true)
	p.Clear("notes")
	if p.Len() != 4 {
		t.Fatalf("Len %d", p.Len())
	}
	if got, want := p.Fields(), []string{"is_employee", "last_name", "notes", "vendor_id"}; !slices.Equal(got, want) {
		t.Fatalf("Fields %v, want %v", got, want)
	}
	checks := []struct {
		field string
		kind  ValueKind
		ok    bool
	}{{"last_name", KindString, true}, {"vendor_id", KindInt, true}, {"is_employee", KindBool, true}, {"notes", KindNull, true}, {"city", KindNull, false}}
	for _, c := range checks {
		v, ok := p.Value(c.field)
		if ok != c.ok || v.Kind() != c.kind {
			t.Errorf("Value(%s) = %v %v, want %v %v", c.field, v.Kind(), ok, c.kind, c.ok)
		}
	}
	if v, _ := p.Value("last_name"); v.Str() != "Diaz" {
		t.Errorf("Str %q", v.Str())
	}
	if v, _ := p.Value("vendor_id"); v.Int() != 7 {
		t.Errorf("Int %d", v.Int())
	}
	if v, _ := p.Value("is_employee"); !v.Bool() {
		t.Error("Bool false")
	}
	if v, _ := p.Value("notes"); !v.IsNull() {
		t.Error("not null")
	}
}

func TestWritableFields(t *testing.T) {
	got := WritableFields()
	want := strings.Fields(`first_name last_name job_title address city zip business_phone
		business_phone_extension mobile_phone fax_number email_address email_signature is_active
		is_employee employee_id notes country_code state_code initials origin_id origin_data vendor_id
		default_permission_template_id company_permission_template_id work_classification_id add_to_new_projects`)
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("WritableFields\n got %v\nwant %v", got, want)
	}
	got[0] = "mutated"
	if WritableFields()[0] != "first_name" {
		t.Fatal("WritableFields shares its slice")
	}
}

func TestPatchValidate(t *testing.T) {
	tests := []struct {
		name    string
		build   func(p *Patch)
		wantErr string
	}{
		{"all kinds ok", func(p *Patch) {
			p.SetString("email_address", "a@b.co")
			p.SetInt("work_classification_id", 3)
			p.SetBool("add_to_new_projects", true)
			p.Clear("employee_id")
		}, ""},
		{"unknown field", func(p *Patch) { p.SetString("avatar", "x") }, `"avatar" is not a writable field`},
		{"typo", func(p *Patch) { p.SetString("lastname", "x") }, `"lastname" is not a writable field`},
		{"string for int", func(p *Patch) { p.SetString("vendor_id", "7") }, "vendor_id takes a int, not a string"},
		{"int for bool", func(p *Patch) { p.SetInt("is_active", 1) }, "is_active takes a bool, not a int"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var p Patch
			tt.build(&p)
			err := p.validate(writableKinds())
			if tt.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("err %v, want %q", err, tt.wantErr)
			}
		})
	}
}

// FuzzAppendJSONString checks the encoder against
// encoding/json's decoder: always valid, and the same string comes back
// (invalid UTF-8 aside, which both map to U+FFFD).
func FuzzAppendJSONString(f *testing.F) {
	for _, s := range []string{"", "plain", "q\"\\", "\x00\x1f\x7f", "\u2028\u2029", "\xff\xfe", "é漢字🙂", "</script>"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		b := appendJSONString(nil, s)
		var back string
		if err := json.Unmarshal(b, &back); err != nil {
			t.Fatalf("%q encoded as invalid JSON %s: %v", s, b, err)
		}
		// Converting to []rune maps each invalid byte to U+FFFD, as the encoder does.
		if want := string([]rune(s)); back != want {
			t.Fatalf("%q round-tripped as %q, want %q", s, back, want)
		}
	})
}
