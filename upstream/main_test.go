package upstream

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package's tests if any goroutine outlives them: a
// waiter stuck in pacing, a breaker probe or a response body never closed
// would show here.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
