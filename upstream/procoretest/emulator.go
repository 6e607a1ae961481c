package procoretest

import (
	crand "crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/procore-directory/procore-directory/upstream"
)

// Emulator is the fake Procore: an http.Handler serving the OAuth token
// endpoint, the three company-user routes and the /_emulator control routes.
// It is safe for concurrent use.
type Emulator struct {
	cfg      config
	fields   *fieldTable
	iso      *upstream.ISO3166
	emailRE  *regexp.Regexp
	signKey  []byte
	idPrefix string
	idSeq    atomic.Uint64

	mu        sync.RWMutex // guards dir
	dir       *directory
	clients   []OAuthClient
	clientMap map[string]*OAuthClient

	tokMu  sync.Mutex // guards tokens
	tokens map[string]*token

	faultMu sync.Mutex // guards faults, script, rng
	faults  Faults
	script  []Fault
	rng     *rand.Rand

	log requestLog

	stalls sync.WaitGroup // scripted FaultStall requests not yet processed

	syncSwitch atomic.Pointer[SyncMode] // WithSync, then SetSync
}

// New builds an emulator without listening, for cmd/procore-emulator, for
// directoryd's --dev mode and for in-process tests with httptest.
func New(opts ...Option) (*Emulator, error) {
	cfg := defaultConfig()
	for _, o := range opts {
		if err := o(&cfg); err != nil {
			return nil, fmt.Errorf("procoretest option: %w", err)
		}
	}
	fields, err := newFieldTable()
	if err != nil {
		return nil, err
	}
	dir, clients, err := parseSeed(fields, cfg.seed)
	if err != nil {
		return nil, err
	}
	var key [32]byte
	if _, err := crand.Read(key[:]); err != nil {
		return nil, fmt.Errorf("sign key: %w", err)
	}
	seed := cfg.randSeed
	if !cfg.randSeedSet {
		seed = int64(binary.BigEndian.Uint64(key[:8]))
	}
	e := &Emulator{
		cfg:      cfg,
		fields:   fields,
		iso:      upstream.NewISO3166(),
		emailRE:  regexp.MustCompile(`\A[a-zA-Z0-9.!#$%&'*+/=?^_` + "`" + `{|}~-]+@[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)*\z`),
		signKey:  key[:],
		idPrefix: hex.EncodeToString(key[8:14]),
		tokens:   make(map[string]*token),
		faults:   cfg.faults,
		rng:      rand.New(rand.NewPCG(uint64(seed), uint64(seed)^0x9e3779b97f4a7c15)),
		log:      requestLog{max: cfg.requestLogSize},
	}
	e.setDirectory(dir, clients)
	e.syncSwitch.Store(&cfg.sync)
	return e, nil
}

func (e *Emulator) setDirectory(dir *directory, clients []OAuthClient) {
	m := make(map[string]*OAuthClient, len(clients))
	for i := range clients {
		m[clients[i].ClientID] = &clients[i]
	}
	e.mu.Lock()
	e.dir, e.clients, e.clientMap = dir, clients, m
	e.mu.Unlock()
}

// ServeHTTP routes a request. Every answer carries an X-Request-Id header,
// as Procore's do, so client logs can be correlated with the emulator's.
func (e *Emulator) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	reqID := e.newRequestID()
	w.Header().Set("X-Request-Id", reqID)
	start := time.Now()
	switch {
	case r.URL.Path == "/oauth/token":
		rep, clientID := e.handleToken(r)
		e.record(Request{
			Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery,
			CompanyID: r.Header.Get("Procore-Company-Id"), ContentType: r.Header.Get("Content-Type"),
			ClientID: clientID, Traceparent: r.Header.Get("Traceparent"), Status: rep.status, RequestID: reqID,
		})
		rep.write(w)
	case strings.HasPrefix(r.URL.Path, "/_emulator/"):
		e.handleControl(w, r)
		return
	default:
		e.serveAPI(w, r, reqID)
	}
	e.cfg.logger.LogAttrs(r.Context(), slog.LevelInfo, "request",
		slog.String("method", r.Method), slog.String("path", r.URL.Path),
		slog.String("request_id", reqID), slog.Float64("duration_ms", float64(time.Since(start).Microseconds())/1000))
}

// newRequestID returns a UUID-shaped id, unique per emulator; cheap because
// it is minted on every request.
func (e *Emulator) newRequestID() string {
	n := e.idSeq.Add(1)
	return fmt.Sprintf("%s-%04x-4%03x-8%03x-%012x", e.idPrefix[:8], uint16(n>>48), uint16(n>>36)&0xfff, uint16(n>>24)&0xfff, n&0xffffffffffff)
}

// Reset puts the emulator back to its seed: data, tokens, request log and
// pending scripted faults are cleared; probabilistic faults are kept.
func (e *Emulator) Reset() {
	dir, clients, err := parseSeed(e.fields, e.cfg.seed)
	if err != nil { // the seed parsed in New; it cannot fail now
		panic(fmt.Errorf("procoretest: reset: %w", err))
	}
	e.setDirectory(dir, clients)
	e.tokMu.Lock()
	clear(e.tokens)
	e.tokMu.Unlock()
	e.faultMu.Lock()
	for _, f := range e.script {
		if f.Kind == FaultKindStall {
			e.stalls.Done()
		}
	}
	e.script = nil
	e.faultMu.Unlock()
	e.ResetRequests()
}

// User returns the stored record as the show route renders it in the
// extended shape, whatever the emulator's response shape, so a test can
// check every stored attribute an update really changed upstream.
func (e *Emulator) User(companyID, userID int64) (json.RawMessage, bool) {
	e.mu.RLock()
	defer e.mu.RUnlock()
	c := e.dir.companies[companyID]
	if c == nil {
		return nil, false
	}
	u := c.users[userID]
	if u == nil {
		return nil, false
	}
	return json.RawMessage(e.fields.renderUser(nil, c, u, viewShow, ResponseShapeExtended)), true
}

// SetFaults replaces the probabilistic faults; it takes effect on the next
// request. Out-of-range values are clamped (rates into [0,1], negative
// latency to 0) and an invalid ErrorStatus means random, so a running
// emulator never fails on a bad control call.
func (e *Emulator) SetFaults(f Faults) {
	f.ErrorRate, f.DropRate, f.MalformedRate = clamp01(f.ErrorRate), clamp01(f.DropRate), clamp01(f.MalformedRate)
	f.Latency = max(f.Latency, 0)
	if f.ErrorStatus < 100 || f.ErrorStatus > 599 {
		f.ErrorStatus = 0
	}
	e.faultMu.Lock()
	e.faults = f
	e.faultMu.Unlock()
}

func clamp01(x float64) float64 { return min(max(x, 0), 1) }

// Script queues deterministic faults: the next len(faults) API requests
// (not /oauth/token, not /_emulator) get them in order, then normal service
// resumes. Calls append to the queue.
func (e *Emulator) Script(faults ...Fault) {
	e.faultMu.Lock()
	for _, f := range faults {
		if f.Kind == FaultKindStall {
			e.stalls.Add(1)
		}
	}
	e.script = append(e.script, faults...)
	e.faultMu.Unlock()
}

// nextFault pops a scripted fault or rolls the probabilistic ones. The
// returned latency is the probabilistic Latency to add.
func (e *Emulator) nextFault() (Fault, time.Duration) {
	e.faultMu.Lock()
	defer e.faultMu.Unlock()
	if len(e.script) > 0 {
		f := e.script[0]
		e.script = e.script[1:]
		return f, 0
	}
	f := e.faults
	switch {
	case f.DropRate > 0 && e.rng.Float64() < f.DropRate:
		return FaultDropBeforeBody(), f.Latency
	case f.ErrorRate > 0 && e.rng.Float64() < f.ErrorRate:
		status := f.ErrorStatus
		if status == 0 {
			statuses := randomErrorStatuses()
			status = statuses[e.rng.IntN(len(statuses))]
		}
		return Fault{Kind: FaultKindStatus, Status: status}, f.Latency
	case f.MalformedRate > 0 && e.rng.Float64() < f.MalformedRate:
		return FaultMalformed(), f.Latency
	}
	return Fault{}, f.Latency
}

// now is the emulator's clock.
func (e *Emulator) now() time.Time { return e.cfg.now() }

// WaitStalls waits until every scripted FaultStall has been taken by a
// request and processed: its late write is then in the store and the request log.
func (e *Emulator) WaitStalls() { e.stalls.Wait() }

// SetSync switches the sync endpoint's mode on a running emulator, so one
// test can see a credential's sync refused and later allowed (or the
// reverse) and check what a client remembers. It takes effect on the next
// request and Reset keeps it, like the probabilistic faults; an invalid
// mode is an error and changes nothing.
func (e *Emulator) SetSync(m SyncMode) error {
	if err := m.UnmarshalText([]byte(m)); err != nil {
		return fmt.Errorf("procoretest: %w", err)
	}
	e.syncSwitch.Store(&m)
	return nil
}

func (e *Emulator) syncMode() SyncMode { return *e.syncSwitch.Load() }
