package redisqueue_test

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain checks that Close leaves no goroutine behind (the renewals and
// the reads of Claims that were given up).
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
