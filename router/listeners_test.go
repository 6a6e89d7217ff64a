package router

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// TestLinkPagesCarrySecurityHeaders: every answer of an action link, the
// confirmation page, the done page and each refusal, carries the headers
// that stop framing, sniffing and leaking the link in a Referer.
func TestLinkPagesCarrySecurityHeaders(t *testing.T) {
	h := newHarness(t, withGlobal(testConfig, linkConfig))
	srv := httptest.NewServer((&Server{Engine: h.engine}).PublicHandler())
	defer srv.Close()
	id := h.post("firing", "g1", map[string]string{"alertname": "X"})[0].ID
	inc, _ := h.st.Get(context.Background(), id)
	path := strings.TrimPrefix(h.engine.Links(inc, "alice")["ack"], "http://hikyaku.test")
	want := map[string]string{
		"Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
		"X-Frame-Options":         "DENY",
		"X-Content-Type-Options":  "nosniff",
		"Referrer-Policy":         "no-referrer",
	}
	for _, tc := range []struct {
		name, method, path string
		code               int
	}{
		{"confirmation page", "GET", path, 200},
		{"act", "POST", path, 200},
		{"forged link", "GET", "/act/bm90.c2lnbmVk", 403},
	} {
		req, _ := http.NewRequest(tc.method, srv.URL+tc.path, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tc.code {
			t.Errorf("%s: %d, want %d", tc.name, resp.StatusCode, tc.code)
		}
		if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
			t.Errorf("%s: Content-Type %q", tc.name, ct)
		}
		for k, v := range want {
			if got := resp.Header.Get(k); got != v {
				t.Errorf("%s: %s = %q, want %q", tc.name, k, got, v)
			}
		}
	}
}

// TestAdminPathsAreNotPublic: the public handler answers 404 on every admin
// path, so a refused reload's reasons (the config's path and errors) and the
// metrics never reach the internet; the admin handler serves them and none
// of the public paths.
func TestAdminPathsAreNotPublic(t *testing.T) {
	h := newHarness(t, testConfig)
	reloads := 0
	s := inboundServer(h.engine)
	s.Reload = func(context.Context) error { reloads++; return nil }
	public := httptest.NewServer(s.PublicHandler())
	defer public.Close()
	admin := httptest.NewServer(s.AdminHandler())
	defer admin.Close()
	adminPaths := []struct{ method, path string }{
		{"GET", "/metrics"}, {"GET", "/-/healthy"}, {"GET", "/-/ready"}, {"POST", "/-/reload"},
		{"GET", "/api/v1/timers/dead"}, {"POST", "/api/v1/timers/dead/x/retry"},
	}
	for _, p := range adminPaths {
		if code, body := do(t, p.method, public.URL+p.path, "", nil); code != 404 {
			t.Errorf("public %s %s: %d %q, want 404", p.method, p.path, code, body)
		}
	}
	if reloads != 0 {
		t.Fatalf("the public listener reloaded %d times", reloads)
	}
	for _, p := range adminPaths[:4] {
		if code, body := do(t, p.method, admin.URL+p.path, "", nil); code != 200 {
			t.Errorf("admin %s %s: %d %q, want 200", p.method, p.path, code, body)
		}
	}
	for _, p := range []struct{ method, path string }{
		{"POST", "/api/v1/alertmanager"}, {"GET", "/api/v1/incidents"}, {"POST", "/api/v1/twilio/sms"},
		{"POST", "/api/v1/slack/interactions"}, {"GET", "/act/x.y"},
	} {
		if code, _ := do(t, p.method, admin.URL+p.path, "", nil); code != 404 {
			t.Errorf("admin %s %s: %d, want 404", p.method, p.path, code)
		}
	}
}

// publicPaths is one request for each route of the public listener, by the
// pattern it is mounted with; console routes are mounted only with sign_in.
var publicPaths = []struct {
	pattern, method, path string
	console               bool
}{
	{"POST /api/v1/alertmanager", "POST", "/api/v1/alertmanager", false},
	{"GET /api/v1/incidents", "GET", "/api/v1/incidents", false},
	{"GET /api/v1/incidents/{id}", "GET", "/api/v1/incidents/1", false},
	{"POST /api/v1/incidents/{id}/{action}", "POST", "/api/v1/incidents/1/ack", false},
	{"POST /api/v1/incidents/{id}/roles", "POST", "/api/v1/incidents/1/roles", false},
	{"POST /api/v1/incidents/{id}/notes", "POST", "/api/v1/incidents/1/notes", false},
	{"POST /api/v1/incidents/{id}/severity", "POST", "/api/v1/incidents/1/severity", false},
	{"GET /api/v1/incidents/{id}/timeline", "GET", "/api/v1/incidents/1/timeline", false},
	{"POST /api/v1/incidents/{id}/reports", "POST", "/api/v1/incidents/1/reports", false},
	{"PUT /api/v1/incidents/{id}/reports/draft", "PUT", "/api/v1/incidents/1/reports/draft", false},
	{"PUT /api/v1/incidents/{id}/reports/period", "PUT", "/api/v1/incidents/1/reports/period", false},
	{"GET /api/v1/oncall", "GET", "/api/v1/oncall", false},
	{"POST /api/v1/test-pages", "POST", "/api/v1/test-pages", false},
	{"GET /api/v1/drills", "GET", "/api/v1/drills", false},
	{"GET /api/v1/drills/{id}", "GET", "/api/v1/drills/1", false},
	{"POST /api/v1/drills", "POST", "/api/v1/drills", false},
	{"GET /api/v1/reports/health", "GET", "/api/v1/reports/health", false},
	{"POST /api/v1/overrides", "POST", "/api/v1/overrides", false},
	{"GET /api/v1/overrides", "GET", "/api/v1/overrides", false},
	{"DELETE /api/v1/overrides/{id}", "DELETE", "/api/v1/overrides/x", false},
	{"POST /api/v1/maintenance", "POST", "/api/v1/maintenance", false},
	{"GET /api/v1/maintenance", "GET", "/api/v1/maintenance", false},
	{"DELETE /api/v1/maintenance/{id}", "DELETE", "/api/v1/maintenance/x", false},
	{"POST /api/v1/reload", "POST", "/api/v1/reload", false},
	{"GET /calendar/{token}/me.ics", "GET", "/calendar/x/me.ics", false},
	{"GET /calendar/{token}/rotation/{dept}/{file}", "GET", "/calendar/x/rotation/ops/primary.ics", false},
	{"POST /api/v1/calendar/url", "POST", "/api/v1/calendar/url", false},
	{"POST /api/v1/calendar/revoke", "POST", "/api/v1/calendar/revoke", false},
	{"POST /api/v1/twilio/sms", "POST", "/api/v1/twilio/sms", false},
	{"POST /api/v1/twilio/status", "POST", "/api/v1/twilio/status", false},
	{"POST /api/v1/twilio/voice/gather", "POST", "/api/v1/twilio/voice/gather", false},
	{"POST /api/v1/slack/interactions", "POST", "/api/v1/slack/interactions", false},
	{"POST /api/v1/slack/events", "POST", "/api/v1/slack/events", false},
	{"GET /act/{token}", "GET", "/act/x.y", false},
	{"POST /act/{token}", "POST", "/act/x.y", false},
	{"GET /{$}", "GET", "/", true},
	{"GET /console/calendar/{id}", "GET", "/console/calendar/1", true},
	{"GET /console/me", "GET", "/console/me", true},
	{"POST /console/me/cover", "POST", "/console/me/cover", true},
	{"POST /console/me/cover/{id}/remove", "POST", "/console/me/cover/x/remove", true},
	{"POST /console/mute", "POST", "/console/mute", true},
	{"POST /console/mute/{id}/end", "POST", "/console/mute/x/end", true},
	{"POST /console/me/test-page", "POST", "/console/me/test-page", true},
	{"POST /console/me/calendar", "POST", "/console/me/calendar", true},
	{"GET /console/incidents", "GET", "/console/incidents", true},
	{"GET /console/incidents/{id}", "GET", "/console/incidents/1", true},
	{"POST /console/incidents/{id}/{verb}", "POST", "/console/incidents/1/ack", true},
	{"GET " + refreshScriptPath, "GET", refreshScriptPath, true},
	{"GET /auth/sign-in", "GET", "/auth/sign-in", true},
	{"GET /auth/callback", "GET", "/auth/callback", true},
	{"POST /auth/sign-out", "POST", "/auth/sign-out", true},
	{"GET /api/v1/me", "GET", "/api/v1/me", true},
}

// nginxLocations are the location blocks of docs/operations.md's nginx
// example: exact (=) and prefix (^~) paths that pass, and the catch-all.
func nginxLocations(t *testing.T) (exact, prefix []string) {
	t.Helper()
	b, err := os.ReadFile("../docs/operations.md")
	if err != nil {
		t.Fatal(err)
	}
	_, block, ok := strings.Cut(string(b), "```nginx\n")
	if !ok {
		t.Fatal("docs/operations.md has no nginx example")
	}
	block, _, _ = strings.Cut(block, "```")
	loc := regexp.MustCompile(`(?m)^\s*location (=|\^~) (\S+)\s+\{ proxy_pass `)
	for _, m := range loc.FindAllStringSubmatch(block, -1) {
		if m[1] == "=" {
			exact = append(exact, m[2])
		} else {
			prefix = append(prefix, m[2])
		}
	}
	if !strings.Contains(block, "location / { return 404; }") {
		t.Fatal("the nginx example lost its catch-all 404")
	}
	return exact, prefix
}

// TestDocumentedProxyPassesThePublicPaths: the nginx example of
// docs/operations.md ("Listeners") passes every path of the public
// listener and none of the admin listener's, and every route mounted in
// router's source is in publicPaths or is an admin route.
func TestDocumentedProxyPassesThePublicPaths(t *testing.T) {
	exact, prefix := nginxLocations(t)
	passes := func(path string) bool {
		if slices.Contains(exact, path) {
			return true
		}
		for _, p := range prefix {
			if strings.HasPrefix(path, p) {
				return true
			}
		}
		return false
	}
	h := newHarness(t, testConfig)
	public := httptest.NewServer(inboundServer(h.engine).PublicHandler())
	defer public.Close()
	known := map[string]bool{}
	for _, p := range publicPaths {
		known[p.pattern] = true
		if !passes(p.path) {
			t.Errorf("docs/operations.md's nginx example refuses %s %s, a public path", p.method, p.path)
		}
		// A calendar feed refuses a bad token with the mux's own 404, on
		// purpose: a wrong path tells nothing. TestCalendar* cover them.
		if p.console || strings.HasPrefix(p.path, "/calendar/") {
			continue
		}
		// The mux's own 404 is text; the handlers' refusals are not that page.
		if code, body := do(t, p.method, public.URL+p.path, "", nil); code == 404 && body == "404 page not found\n" {
			t.Errorf("public %s %s: not mounted (%d %q)", p.method, p.path, code, body)
		}
	}
	admin := map[string]bool{"GET /-/healthy": true, "GET /-/ready": true, "POST /-/reload": true, "GET /metrics": true,
		"GET /api/v1/timers/dead": true, "POST /api/v1/timers/dead/{id}/{action}": true,
		"POST /api/v1/tokens": true, "GET /api/v1/tokens": true, "POST /api/v1/tokens/{id}/revoke": true}
	for _, path := range []string{"/-/healthy", "/-/ready", "/-/reload", "/metrics", "/api/v1/timers/dead", "/api/v1/tokens"} {
		if passes(path) {
			t.Errorf("docs/operations.md's nginx example passes %s, an admin path", path)
		}
	}
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	mounted := regexp.MustCompile(`mux\.Handle(?:Func)?\("([A-Z]+ [^"]+)"`)
	n := 0
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range mounted.FindAllStringSubmatch(string(src), -1) {
			n++
			if !known[m[1]] && !admin[m[1]] {
				t.Errorf("%s mounts %q: add it to publicPaths (and to docs/operations.md's Listeners) or to the admin routes here", f, m[1])
			}
		}
	}
	if n < 40 {
		t.Errorf("%d routes found in the source: the pattern lost them", n)
	}
}
