package upstream

import (
	"testing"
	"time"
)

func TestDecodeUser(t *testing.T) {
	u, err := decodeUser([]byte(userJSON))
	if err != nil {
		t.Fatal(err)
	}
	if u.ID != 1001 || *u.Name != "Ana Diaz" || *u.LastName != "Diaz" || !*u.IsActive {
		t.Fatalf("basic fields: %+v", u)
	}
	if u.BusinessPhoneExtension == nil || *u.BusinessPhoneExtension != 12 {
		t.Errorf("extension from a numeric string: %v", u.BusinessPhoneExtension)
	}
	if u.EmployeeID == nil || *u.EmployeeID != "4411" {
		t.Errorf("employee_id from an integer: %v", u.EmployeeID)
	}
	if u.Vendor == nil || u.Vendor.ID != 77 || u.Vendor.Name != "Acme" || u.VendorID == nil || *u.VendorID != 77 {
		t.Errorf("vendor id filled from the object: %+v %v", u.Vendor, u.VendorID)
	}
	if u.CreatedAt == nil || !u.CreatedAt.Equal(time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)) || u.UpdatedAt != nil {
		t.Errorf("times: %v %v", u.CreatedAt, u.UpdatedAt)
	}
	if u.City != nil || u.DefaultPermissionTemplateID != nil {
		t.Errorf("absent fields must be nil")
	}
}

func TestDecodeUserVariants(t *testing.T) {
	tests := []struct {
		name  string
		body  string
		check func(t *testing.T, u *User)
	}{
		{"int extension, string employee id", `{"id":1,"business_phone_extension":214,"employee_id":"E-1"}`, func(t *testing.T, u *User) {
			if *u.BusinessPhoneExtension != 214 || *u.EmployeeID != "E-1" {
				t.Fail()
			}
		}},
		{"float extension", `{"id":1,"business_phone_extension":214.0}`, func(t *testing.T, u *User) {
			if *u.BusinessPhoneExtension != 214 {
				t.Fail()
			}
		}},
		{"empty and null", `{"id":1,"business_phone_extension":"","employee_id":null,"vendor":null}`, func(t *testing.T, u *User) {
			if u.BusinessPhoneExtension != nil || u.EmployeeID != nil || u.Vendor != nil || u.VendorID != nil {
				t.Fail()
			}
		}},
		{"big ids", `{"id":9007199254740993,"vendor_id":9007199254740995}`, func(t *testing.T, u *User) {
			if u.ID != 9007199254740993 || *u.VendorID != 9007199254740995 {
				t.Fail()
			}
		}},
		{"explicit ids win", `{"id":1,"default_permission_template_id":5,"permission_template":{"id":6,"name":"x"},"company_permission_template":{"id":8,"name":"y"}}`, func(t *testing.T, u *User) {
			if *u.DefaultPermissionTemplateID != 5 || *u.CompanyPermissionTemplateID != 8 || u.PermissionTemplate.Name != "x" {
				t.Fail()
			}
		}},
		{"odd times", `{"id":1,"last_login_at":"yesterday","created_at":"2024-01-02 03:04:05 -0700","updated_at":""}`, func(t *testing.T, u *User) {
			if u.LastLoginAt != nil || u.CreatedAt == nil || u.UpdatedAt != nil {
				t.Fail()
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u, err := decodeUser([]byte(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, u)
		})
	}
}

func TestDecodeUserRejects(t *testing.T) {
	for _, body := range []string{"", "[]", `{"name":"no id"}`, `{"id":"abc"}`, `{"id":1,"first_name":5}`, `{"id":1,`, "<html>", `{"id":1,"email_address":["x@y.z"]}`} {
		if _, err := decodeUser([]byte(body)); err == nil {
			t.Errorf("decodeUser(%q) succeeded", body)
		}
	}
}
