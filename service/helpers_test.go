package service

import "github.com/procore-directory/procore-directory/service/servicetest"

func ptr[T any](v T) *T { return servicetest.Ptr(v) }
