package access

import (
	"bytes"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/hikyaku/hikyaku/config"
)

// testKey is a 32-byte session key.
var testKey = []byte("0123456789abcdef0123456789abcdef")

const testConfig = `users:
  - {id: alice, language: ja, contacts: {email: alice@example.com}}
  - {id: bob, contacts: {email: bob@example.com}}
departments: [{id: ops, escalation_policy: page, rotations: [{id: primary, start: "2026-01-05 09:00", shift: 1w, members: [alice]}]}]
escalation_policies: [{id: page, steps: [{targets: {rotations: [primary]}}]}]
default_route: {department: ops}
sign_in:
  session_ttl: 1h
  trusted_proxy: {sources: [10.9.0.0/16]}
`

// fakeClock is a clock the test moves by hand.
type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time { return c.t }

// newTestAuth is an Auth on testConfig (a trusted proxy at 10.9.0.0/16),
// its clock, and the log it writes.
func newTestAuth(t *testing.T) (*Auth, *fakeClock, *bytes.Buffer) {
	t.Helper()
	cfg, err := config.Parse([]byte(testConfig), "hikyaku.yml")
	if err != nil {
		t.Fatal(err)
	}
	clock := &fakeClock{t: time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC)}
	var logs bytes.Buffer
	a, err := New(Options{SignIn: cfg.SignIn, Key: testKey, ExternalURL: "https://hikyaku.example.com/",
		Config: func() *config.Config { return cfg }, Now: clock.now, Metrics: NewMetrics(prometheus.NewRegistry()),
		Log: slog.New(slog.NewJSONHandler(&logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	return a, clock, &logs
}

// cookieFrom is the named cookie a response set.
func cookieFrom(t *testing.T, h http.Header, name string) *http.Cookie {
	t.Helper()
	for _, c := range (&http.Response{Header: h}).Cookies() {
		if c.Name == name {
			return c
		}
	}
	t.Fatalf("no %s cookie in %q", name, h.Values("Set-Cookie"))
	return nil
}

func contains(t *testing.T, what, s, sub string) {
	t.Helper()
	if !strings.Contains(s, sub) {
		t.Errorf("%s: %q does not contain %q", what, s, sub)
	}
}
