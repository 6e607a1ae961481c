package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync/atomic"

	"github.com/procore-directory/procore-directory/upstream/procoretest"
)

// The bench users: clones of the seed's user 1001 in company 8089, with ids
// from firstBenchUser and an e-mail address of their own (the emulator, as
// Procore, refuses an address another user of the company has).
const (
	benchCompany   = 8089
	benchTemplate  = 1001
	firstBenchUser = 5001
)

// benchEmail is the address of bench user id; every update of that user
// sends it again, so updates never collide on e-mail.
func benchEmail(id int64) string {
	return "bench-" + strconv.FormatInt(id, 10) + "@summitridge.example"
}

// userCycle hands out the bench user ids in turn, from any goroutine. With
// n users and c callers, two calls for one user are in flight at once only
// when c > n: directoryd writes one user at a time (its per-user lock), so
// a load that sends every call to one user measures that lock's queue, not
// the CPU a call costs.
type userCycle struct {
	n    int64
	next atomic.Int64
}

func newUserCycle(n int) (*userCycle, error) {
	if n < 1 {
		return nil, errors.New("-users: want at least 1")
	}
	return &userCycle{n: int64(n)}, nil
}

// id returns the next user id.
func (u *userCycle) id() int64 { return firstBenchUser + (u.next.Add(1)-1)%u.n }

// expand replaces {id} and {email} in s with the user's id and address.
func expand(s string, id int64) string {
	return strings.NewReplacer("{id}", strconv.FormatInt(id, 10), "{email}", benchEmail(id)).Replace(s)
}

// runSeed prints the emulator's built-in seed with n bench users added to
// company 8089 (procore-emulator --seed FILE).
func runSeed(args []string) error {
	fs := flag.NewFlagSet("seed", flag.ExitOnError)
	n := fs.Int("users", 64, "bench users to add (ids 5001...)")
	_ = fs.Parse(args)
	seed, err := benchSeed(*n)
	if err != nil {
		return err
	}
	_, err = os.Stdout.Write(seed)
	return err
}

// benchSeed is the built-in seed with n bench users added to company 8089.
func benchSeed(n int) ([]byte, error) {
	if n < 1 || n > 10_000 {
		return nil, errors.New("-users: want 1 to 10000")
	}
	var seed map[string]any
	if err := json.Unmarshal(procoretest.DefaultSeed(), &seed); err != nil {
		return nil, fmt.Errorf("built-in seed: %w", err)
	}
	companies, _ := seed["companies"].([]any)
	for _, c := range companies {
		company, _ := c.(map[string]any)
		if id, _ := company["id"].(float64); id != benchCompany {
			continue
		}
		users, _ := company["users"].([]any)
		var template map[string]any
		for _, u := range users {
			if m, _ := u.(map[string]any); m != nil && m["id"] == float64(benchTemplate) {
				template = m
			}
		}
		if template == nil {
			return nil, fmt.Errorf("built-in seed: no user %d in company %d", benchTemplate, benchCompany)
		}
		for i := range int64(n) {
			id := firstBenchUser + i
			u := make(map[string]any, len(template))
			for k, v := range template {
				u[k] = v
			}
			u["id"] = id
			u["email_address"] = benchEmail(id)
			u["contact_id"] = 7_700_000 + id
			u["employee_id"] = "BENCH-" + strconv.FormatInt(id, 10)
			users = append(users, u)
		}
		company["users"] = users
		return json.Marshal(seed)
	}
	return nil, fmt.Errorf("built-in seed: no company %d", benchCompany)
}
