package main

import (
	"context"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/procore-directory/procore-directory/upstream/procoretest"
)

// TestBenchUsers: the seed restload writes loads into the emulator, and the
// load's PATCH, expanded for each bench user in turn, is accepted for every
// one of them (each user sends its own e-mail address, so none collides
// with another's), and the cycle visits each user equally often.
func TestBenchUsers(t *testing.T) {
	const n = 5
	seed, err := benchSeed(n)
	if err != nil {
		t.Fatal(err)
	}
	emu := procoretest.NewServer(t, procoretest.WithSeed(seed), procoretest.WithHourlyLimit(0), procoretest.WithSpikeLimit(0))
	admin, ok := emu.AdminClient()
	if !ok {
		t.Fatal("no admin client in the seed")
	}
	token := emu.Token(t, admin)

	cycle, err := newUserCycle(n)
	if err != nil {
		t.Fatal(err)
	}
	const body = `{"user":{"email_address":"{email}","job_title":"Senior Project Manager","last_name":"Diaz"}}`
	var mu sync.Mutex
	seen := map[string]int{}
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 5 {
				id := cycle.id()
				req, err := http.NewRequestWithContext(context.Background(), http.MethodPatch,
					expand(emu.URL+"/rest/v1.3/companies/8089/users/{id}", id), strings.NewReader(expand(body, id)))
				if err != nil {
					t.Error(err)
					return
				}
				req.Header.Set("Authorization", "Bearer "+token)
				req.Header.Set("Procore-Company-Id", "8089")
				req.Header.Set("Content-Type", "application/json")
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Error(err)
					return
				}
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK || !strings.Contains(string(b), `"email_address":"`+benchEmail(id)+`"`) {
					t.Errorf("user %d: status %d: %.300s", id, resp.StatusCode, b)
				}
				mu.Lock()
				seen[req.URL.Path]++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if len(seen) != n {
		t.Errorf("%d users updated, want %d: %v", len(seen), n, seen)
	}
	for path, k := range seen {
		if k != 4 {
			t.Errorf("%s updated %d times, want 4 (20 updates over %d users in turn)", path, k, n)
		}
	}
}

func TestBenchSeedBounds(t *testing.T) {
	for _, n := range []int{0, -1, 10_001} {
		if _, err := benchSeed(n); err == nil {
			t.Errorf("benchSeed(%d): no error", n)
		}
	}
	if _, err := newUserCycle(0); err == nil {
		t.Error("newUserCycle(0): no error")
	}
}
