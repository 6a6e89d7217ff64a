package router

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/hikyaku/hikyaku/access"
	"github.com/hikyaku/hikyaku/config"
	"github.com/hikyaku/hikyaku/store"
)

// consoleSignIn lets the test client be the trusted proxy: it connects
// from 127.0.0.1.
const consoleSignIn = `
sign_in:
  trusted_proxy: {sources: [127.0.0.0/8]}
`

// proxyClient sends every request as an authenticating proxy would, with
// the signed-in person's email, and keeps cookies like a browser.
type proxyClient struct {
	t     *testing.T
	http  *http.Client
	email string
}

func (c *proxyClient) do(method, u string, form url.Values) (int, http.Header, string) {
	c.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, _ := http.NewRequest(method, u, body)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if c.email != "" {
		req.Header.Set("X-Forwarded-Email", c.email)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, string(b)
}

var csrfInput = regexp.MustCompile(`name="csrf_token" value="([^"]+)"`)

func TestConsoleThroughTrustedProxy(t *testing.T) {
	h := newHarness(t, testConfig+consoleSignIn)
	cfg := h.engine.Policies().Config()
	auth, err := access.New(access.Options{SignIn: cfg.SignIn, Key: []byte("0123456789abcdef0123456789abcdef"),
		Config: func() *config.Config { return h.engine.Policies().Config() }, Now: h.clock.Now, Log: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer((&Server{Engine: h.engine, Auth: auth}).PublicHandler())
	t.Cleanup(srv.Close)
	id := h.post("firing", "g1", map[string]string{"alertname": "DiskFull"})[0].ID
	jar, _ := cookiejar.New(nil)
	c := &proxyClient{t: t, http: &http.Client{Jar: jar}}

	if code, _, body := c.do(http.MethodGet, srv.URL+"/", nil); code != http.StatusUnauthorized {
		t.Errorf("GET / without the proxy's header: %d %q, want 401", code, body)
	}

	c.email = "carol@example.com"
	code, hdr, body := c.do(http.MethodGet, srv.URL+"/", nil)
	if code != http.StatusOK {
		t.Fatalf("GET /: %d %s", code, body)
	}
	for k, want := range map[string]string{"Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; script-src 'self'; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'", "X-Frame-Options": "DENY",
		"X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer"} {
		if got := hdr.Get(k); got != want {
			t.Errorf("%s: %q, want %q", k, got, want)
		}
	}
	for _, want := range []string{"carol (carol) としてサインイン中", "未解決のインシデント", `action="/console/incidents/1/ack"`, `<a href="/console/incidents/1">#1</a> UNKNOWN eng (open): disk full`} {
		if !strings.Contains(body, want) {
			t.Errorf("page lacks %q:\n%s", want, body)
		}
	}
	m := csrfInput.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no CSRF token in the page:\n%s", body)
	}
	token := m[1]

	ackURL := srv.URL + "/console/incidents/1/ack"
	if code, _, _ := c.do(http.MethodPost, ackURL, url.Values{}); code != http.StatusForbidden {
		t.Errorf("ack without the CSRF token: %d, want 403", code)
	}
	if code, _, _ := c.do(http.MethodPost, ackURL, url.Values{"csrf_token": {token + "x"}}); code != http.StatusForbidden {
		t.Errorf("ack with a wrong CSRF token: %d, want 403", code)
	}
	if inc, _ := h.st.Get(t.Context(), id); inc.Status != store.StatusOpen {
		t.Fatalf("refused acks changed the incident: %s", inc.Status)
	}
	code, _, body = c.do(http.MethodPost, ackURL, url.Values{"csrf_token": {token}})
	if code != http.StatusOK || !strings.Contains(body, "インシデント #1 を carol が了解しました。") {
		t.Errorf("ack: %d\n%s", code, body)
	}
	inc, _ := h.st.Get(t.Context(), id)
	if inc.Status != store.StatusAcked || inc.AckedBy != "carol" {
		t.Errorf("incident %s by %q, want acked by carol", inc.Status, inc.AckedBy)
	}
	// The ack, then carol made IC by it (docs/incidents.md, "Roles").
	tl, _ := h.st.Timeline(t.Context(), id)
	if len(tl) < 2 {
		t.Fatalf("timeline %+v, want the ack and the IC assignment", tl)
	}
	if ack := tl[len(tl)-2]; ack.Type != "acked" || ack.Actor != "carol" || ack.Detail["via"] != "console" {
		t.Errorf("timeline entry before the last %+v, want acked by carol via console", ack)
	}
	if ic := tl[len(tl)-1]; ic.Type != "role_assigned" || ic.Actor != "carol" || ic.Detail["role"] != "ic" || ic.Detail["user"] != "carol" {
		t.Errorf("last timeline entry %+v, want carol made IC by her ack", ic)
	}

	code, _, body = c.do(http.MethodGet, srv.URL+"/api/v1/me", nil)
	var me MeView
	if err := json.Unmarshal([]byte(body), &me); err != nil || code != 200 {
		t.Fatalf("/api/v1/me: %d %s %v", code, body, err)
	}
	if me.User != "carol" || me.Email != "carol@example.com" || me.Method != "proxy" || !me.Expires.Equal(h.clock.Now().Add(config.DefaultSessionTTL).Truncate(1e9)) {
		t.Errorf("/api/v1/me: %+v", me)
	}

	c.email = ""
	if code, _, _ := c.do(http.MethodPost, srv.URL+"/auth/sign-out", url.Values{}); code != http.StatusForbidden {
		t.Errorf("sign-out without the CSRF token: %d, want 403", code)
	}
	if code, _, _ := c.do(http.MethodPost, srv.URL+"/auth/sign-out", url.Values{"csrf_token": {token}}); code != http.StatusOK {
		t.Errorf("sign-out: %d", code)
	}
	if code, _, body := c.do(http.MethodGet, srv.URL+"/api/v1/me", nil); code != http.StatusUnauthorized {
		t.Errorf("/api/v1/me after sign-out: %d %s, want 401", code, body)
	}
}
