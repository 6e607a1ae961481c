package service

import (
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	directoryv1 "github.com/procore-directory/procore-directory/gen/procore/directory/v1"
	"github.com/procore-directory/procore-directory/upstream"
)

// toProto converts Procore's user to the API's CompanyUser. Absent and null
// upstream fields stay unset, so callers can tell "empty" from "none".
func toProto(u *upstream.User) *directoryv1.CompanyUser {
	return &directoryv1.CompanyUser{
		FirstName:                   u.FirstName,
		LastName:                    u.LastName,
		JobTitle:                    u.JobTitle,
		Address:                     u.Address,
		City:                        u.City,
		Zip:                         u.Zip,
		BusinessPhone:               u.BusinessPhone,
		BusinessPhoneExtension:      u.BusinessPhoneExtension,
		MobilePhone:                 u.MobilePhone,
		FaxNumber:                   u.FaxNumber,
		EmailAddress:                u.EmailAddress,
		EmailSignature:              u.EmailSignature,
		IsActive:                    u.IsActive,
		IsEmployee:                  u.IsEmployee,
		EmployeeId:                  u.EmployeeID,
		Notes:                       u.Notes,
		CountryCode:                 u.CountryCode,
		StateCode:                   u.StateCode,
		Initials:                    u.Initials,
		OriginId:                    u.OriginID,
		OriginData:                  u.OriginData,
		VendorId:                    u.VendorID,
		DefaultPermissionTemplateId: u.DefaultPermissionTemplateID,
		CompanyPermissionTemplateId: u.CompanyPermissionTemplateID,
		WorkClassificationId:        u.WorkClassificationID,
		AddToNewProjects:            u.AddToNewProjects,

		Id:                        u.ID,
		Name:                      u.Name,
		Avatar:                    u.Avatar,
		Vendor:                    namedRef(u.Vendor),
		PermissionTemplate:        namedRef(u.PermissionTemplate),
		CompanyPermissionTemplate: namedRef(u.CompanyPermissionTemplate),
		LastLoginAt:               timestamp(u.LastLoginAt),
		WelcomeEmailSentAt:        timestamp(u.WelcomeEmailSentAt),
		CreatedAt:                 timestamp(u.CreatedAt),
		UpdatedAt:                 timestamp(u.UpdatedAt),
	}
}

func namedRef(r *upstream.NamedRef) *directoryv1.NamedReference {
	if r == nil {
		return nil
	}
	return &directoryv1.NamedReference{Id: r.ID, Name: r.Name}
}

func timestamp(t *time.Time) *timestamppb.Timestamp {
	if t == nil {
		return nil
	}
	return timestamppb.New(*t)
}
