package e2e

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/oauth2-proxy/mockoidc"
)

// What the provider's token endpoint does to the ID token it issues.
const (
	tokenAsIssued = iota
	tokenForged   // the same claims, signed by a key the provider never published
	tokenExpired  // signed by the provider's own key, but expired an hour ago
)

// oidcProvider is a real OpenID provider on loopback (discovery, JWKS,
// authorization code with PKCE S256 and nonce), whose token answers the
// test can spoil.
type oidcProvider struct {
	*mockoidc.MockOIDC
	mode atomic.Int32
}

func startOIDCProvider(t *testing.T) *oidcProvider {
	t.Helper()
	m, err := mockoidc.NewServer(nil)
	if err != nil {
		t.Fatal(err)
	}
	p := &oidcProvider{MockOIDC: m}
	wrong, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	m.AddMiddleware(func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			mode := p.mode.Load()
			if r.URL.Path != mockoidc.TokenEndpoint || mode == tokenAsIssued {
				next.ServeHTTP(w, r)
				return
			}
			rec := httptest.NewRecorder()
			next.ServeHTTP(rec, r)
			var body map[string]any
			if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil || body["id_token"] == nil {
				t.Errorf("token answer %d %s: %v", rec.Code, rec.Body, err)
				w.WriteHeader(rec.Code)
				w.Write(rec.Body.Bytes())
				return
			}
			claims := jwt.MapClaims{}
			tok, _, err := jwt.NewParser().ParseUnverified(body["id_token"].(string), claims)
			if err != nil {
				t.Errorf("parse the provider's ID token: %v", err)
				return
			}
			var signed string
			switch mode {
			case tokenForged:
				forged := jwt.NewWithClaims(jwt.SigningMethodRS256, claims)
				forged.Header["kid"] = tok.Header["kid"] // pretends to be the published key
				signed, err = forged.SignedString(wrong)
			case tokenExpired:
				now := time.Now()
				claims["iat"], claims["nbf"], claims["exp"] = now.Add(-2*time.Hour).Unix(), now.Add(-2*time.Hour).Unix(), now.Add(-time.Hour).Unix()
				signed, err = m.Keypair.SignJWT(claims)
			}
			if err != nil {
				t.Errorf("re-sign the ID token: %v", err)
				return
			}
			body["id_token"] = signed
			w.Header().Set("Content-Type", "application/json")
			json.NewEncoder(w).Encode(body)
		})
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Start(ln, nil); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Shutdown() })
	return p
}

// browser is a person's browser: it keeps cookies and follows redirects.
type browser struct {
	t    *testing.T
	http *http.Client
}

func newBrowser(t *testing.T) *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{t: t, http: &http.Client{Jar: jar, Timeout: 30 * time.Second}}
}

func (b *browser) get(u string) (int, string) {
	b.t.Helper()
	resp, err := b.http.Get(u)
	if err != nil {
		b.t.Fatalf("GET %s: %v", u, err)
	}
	code, body := readResponse(b.t, resp)
	return code, string(body)
}

func (b *browser) post(u string, form url.Values) (int, string) {
	b.t.Helper()
	resp, err := b.http.PostForm(u, form)
	if err != nil {
		b.t.Fatalf("POST %s: %v", u, err)
	}
	code, body := readResponse(b.t, resp)
	return code, string(body)
}

var csrfField = regexp.MustCompile(`name="csrf_token" value="([^"]+)"`)

// TestSignInByOIDC runs the console's sign-in against a real OpenID
// provider through a running `hikyaku serve`: sign in (the email mapped to
// a user whatever its case), ack from the page, sign out; a forged and an
// expired ID token, an unverified and an unknown email are refused with a
// page saying why and an audit line; a form without its CSRF token is 403.
func TestSignInByOIDC(t *testing.T) {
	idp := startOIDCProvider(t)
	secretFile := filepath.Join(t.TempDir(), "client-secret")
	if err := os.WriteFile(secretFile, []byte(idp.ClientSecret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	env := startAckEnvWith(t, fmt.Sprintf(`sign_in:
  session_ttl: 1h
  oidc:
    issuer: %s
    client_id: %s
    client_secret: {file: %s}
    scopes: [openid, email, profile]
`, idp.Issuer(), idp.ClientID, secretFile))
	id := env.alert(t, "SignInAck")

	// Not signed in: the page sends the browser to the provider and back.
	b := newBrowser(t)
	idp.QueueUser(&mockoidc.MockUser{Subject: "sub-alice", Email: "Alice@Example.COM", EmailVerified: true})
	code, page := b.get(env.External + "/")
	if code != http.StatusOK || !strings.Contains(page, "Alice (alice) としてサインイン中") {
		t.Fatalf("after sign-in: %d\n%s", code, page)
	}
	if _, ok := env.WaitLog(func(l *logLine) bool {
		return strings.Contains(l.Raw, `"action":"sign_in","actor":"alice","channel":"oidc"`) && strings.Contains(l.Raw, `"result":"done"`)
	}, 5*time.Second); !ok {
		t.Error("no audit line for alice's sign-in")
	}
	if !strings.Contains(page, fmt.Sprintf(`action="/console/incidents/%d/ack"`, id)) {
		t.Fatalf("the page has no Acknowledge form for incident %d:\n%s", id, page)
	}
	m := csrfField.FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no CSRF token on the page:\n%s", page)
	}
	token := m[1]

	code, body := b.get(env.External + "/api/v1/me")
	var me struct{ User, Email, Method string }
	if err := json.Unmarshal([]byte(body), &me); err != nil || code != 200 || me.User != "alice" || me.Method != "oidc" || me.Email != aliceEmail {
		t.Errorf("/api/v1/me: %d %s", code, body)
	}

	ackURL := fmt.Sprintf("%s/console/incidents/%d/ack", env.External, id)
	if code, _ := b.post(ackURL, url.Values{}); code != http.StatusForbidden {
		t.Errorf("ack without the CSRF token: %d, want 403", code)
	}
	env.wantOpen(t, id, "an ack without its CSRF token")
	code, page = b.post(ackURL, url.Values{"csrf_token": {token}})
	if code != http.StatusOK || !strings.Contains(page, fmt.Sprintf("インシデント #%d を alice が了解しました。", id)) {
		t.Errorf("ack from the page: %d\n%s", code, page)
	}
	env.wantAcked(t, id, "alice", "console")

	if code, _ := b.post(env.External+"/auth/sign-out", url.Values{"csrf_token": {token}}); code != http.StatusOK {
		t.Errorf("sign-out: %d", code)
	}
	if code, body := b.get(env.External + "/api/v1/me"); code != http.StatusUnauthorized {
		t.Errorf("/api/v1/me after sign-out: %d %s, want 401", code, body)
	}

	refused := func(name string, mode int32, user *mockoidc.MockUser, wantPage, wantErr string) {
		t.Run(name, func(t *testing.T) {
			idp.mode.Store(mode)
			defer idp.mode.Store(tokenAsIssued)
			idp.QueueUser(user)
			b := newBrowser(t)
			code, page := b.get(env.External + "/auth/sign-in")
			if code != http.StatusForbidden || !strings.Contains(page, wantPage) {
				t.Errorf("%d, want 403 saying %q:\n%s", code, wantPage, page)
			}
			if code, body := b.get(env.External + "/api/v1/me"); code != http.StatusUnauthorized {
				t.Errorf("signed in all the same: /api/v1/me %d %s", code, body)
			}
			if _, ok := env.WaitLog(func(l *logLine) bool {
				return strings.Contains(l.Raw, `"action":"sign_in"`) && strings.Contains(l.Raw, `"result":"refused"`) && strings.Contains(l.Raw, wantErr)
			}, 5*time.Second); !ok {
				t.Errorf("no refused sign_in audit line with %q", wantErr)
			}
		})
	}
	bob := &mockoidc.MockUser{Subject: "sub-bob", Email: "bob@example.com", EmailVerified: true}
	refused("forged ID token", tokenForged, bob, "could not be verified (signature, issuer or audience)", "failed to verify signature")
	refused("expired ID token", tokenExpired, bob, "could not be verified (expired)", "token is expired")
	refused("unverified email", tokenAsIssued, &mockoidc.MockUser{Subject: "sub-bob", Email: "bob@example.com"},
		"does not say that the email address bob@example.com is verified", "email_verified")
	refused("unknown email", tokenAsIssued, &mockoidc.MockUser{Subject: "sub-m", Email: "mallory@example.com", EmailVerified: true},
		"No user in hikyaku&#39;s configuration has the email address mallory@example.com", "no configured user has this email")

	// A callback with a state this browser never started (a login CSRF).
	b = newBrowser(t)
	code, page = b.get(env.External + "/auth/callback?code=x&state=forged")
	if code != http.StatusBadRequest || !strings.Contains(page, "started too long ago or in another browser") {
		t.Errorf("callback without a sign-in in progress: %d\n%s", code, page)
	}

	// The provider's answers worked again: bob signs in.
	idp.QueueUser(bob)
	if code, page := b.get(env.External + "/"); code != http.StatusOK || !strings.Contains(page, "Signed in as Bob (bob)") {
		t.Errorf("bob's sign-in after the refusals: %d\n%s", code, page)
	}
	// alice and bob; four refused answers and the foreign state.
	for series, want := range map[string]string{
		`hikyaku_sign_ins_total{method="oidc",result="done"}`:        "2",
		`hikyaku_sign_ins_total{method="oidc",result="refused"}`:     "5",
		`hikyaku_sign_ins_total{method="oidc",result="unavailable"}`: "0",
	} {
		if got := metric(t, env.Addr, series); got != want {
			t.Errorf("%s = %q, want %s", series, got, want)
		}
	}
}

// fromAddr is a client whose connections leave from the loopback address
// ip, so the test can be the trusted proxy (127.0.0.1) or a stranger
// (127.0.0.2) to the same daemon.
func fromAddr(ip string) *http.Client {
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}, Timeout: 5 * time.Second}
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, Timeout: 30 * time.Second, Transport: &http.Transport{DialContext: d.DialContext}}
}

// TestSignInByTrustedProxy: through a running `hikyaku serve`, the proxy's
// X-Forwarded-Email signs bob in and his ack from the page acts as him;
// the same header from another address is ignored and logged; an email no
// user has is refused with a page and an audit line.
func TestSignInByTrustedProxy(t *testing.T) {
	env := startAckEnvWith(t, "sign_in:\n  trusted_proxy: {sources: [127.0.0.1/32]}\n")
	id := env.alert(t, "ProxyAck")
	send := func(c *http.Client, method, email, path string, form url.Values) (int, string) {
		t.Helper()
		req, _ := http.NewRequest(method, env.External+path, strings.NewReader(form.Encode()))
		if method == http.MethodPost {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		req.Header.Set("X-Forwarded-Email", email)
		resp, err := c.Do(req)
		if err != nil {
			t.Fatalf("%s %s: %v", method, path, err)
		}
		code, b := readResponse(t, resp)
		return code, string(b)
	}

	stranger := fromAddr("127.0.0.2")
	if code, body := send(stranger, http.MethodGet, "bob@example.com", "/api/v1/me", nil); code != http.StatusUnauthorized {
		t.Errorf("the header from 127.0.0.2: %d %s, want 401", code, body)
	}
	if _, ok := env.WaitLog(func(l *logLine) bool {
		return l.Msg == "sign-in header from an address not in sign_in.trusted_proxy.sources ignored" && strings.Contains(l.Raw, `"source":"127.0.0.2:`)
	}, 5*time.Second); !ok {
		t.Error("no WARN for the header from 127.0.0.2")
	}

	proxy := fromAddr("127.0.0.1")
	code, page := send(proxy, http.MethodGet, "BOB@example.com", "/", nil)
	if code != http.StatusOK || !strings.Contains(page, "Signed in as Bob (bob)") {
		t.Fatalf("through the proxy: %d\n%s", code, page)
	}
	m := csrfField.FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no CSRF token on the page:\n%s", page)
	}
	ack := fmt.Sprintf("/console/incidents/%d/ack", id)
	if code, _ := send(proxy, http.MethodPost, "bob@example.com", ack, url.Values{}); code != http.StatusForbidden {
		t.Errorf("ack without the CSRF token: %d, want 403", code)
	}
	code, page = send(proxy, http.MethodPost, "bob@example.com", ack, url.Values{"csrf_token": {m[1]}})
	if code != http.StatusOK || !strings.Contains(page, fmt.Sprintf("Incident #%d acknowledged by bob.", id)) {
		t.Errorf("ack: %d\n%s", code, page)
	}
	env.wantAcked(t, id, "bob", "console")

	code, page = send(proxy, http.MethodGet, "mallory@example.com", "/", nil)
	if code != http.StatusForbidden || !strings.Contains(page, "No user in hikyaku&#39;s configuration has the email address mallory@example.com") {
		t.Errorf("an email nobody has: %d\n%s", code, page)
	}
	if _, ok := env.WaitLog(func(l *logLine) bool {
		return strings.Contains(l.Raw, `"action":"sign_in","actor":"","channel":"proxy"`) && strings.Contains(l.Raw, `"result":"refused"`)
	}, 5*time.Second); !ok {
		t.Error("no refused sign_in audit line for mallory")
	}
}
