package router

import (
	"context"
	"net/http"
	"net/http/httptest"
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
