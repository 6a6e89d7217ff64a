package access

import (
	"crypto/sha256"
	"encoding/base64"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	"github.com/oauth2-proxy/mockoidc"

	"github.com/hikyaku/hikyaku/config"
)

// TestStartSignInSendsPKCEStateAndNonce: the redirect to the provider
// carries the S256 challenge of the verifier, the state and the nonce the
// flow cookie keeps, and that cookie is HttpOnly, SameSite=Lax, 10 minutes.
func TestStartSignInSendsPKCEStateAndNonce(t *testing.T) {
	idp, err := mockoidc.Run()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { idp.Shutdown() })
	clock := &fakeClock{t: time.Now()}
	si := &config.SignIn{OIDC: &config.OIDC{Issuer: idp.Issuer(), ClientID: idp.ClientID,
		ClientSecret: config.NewSecret(idp.ClientSecret), Scopes: config.DefaultOIDCScopes}}
	cfg, err := config.Parse([]byte(testConfig), "hikyaku.yml")
	if err != nil {
		t.Fatal(err)
	}
	a, err := New(Options{SignIn: si, Key: testKey, ExternalURL: "http://hikyaku.example.com:8585/",
		Config: func() *config.Config { return cfg }, Now: clock.now, Log: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	a.StartSignIn(rec, httptest.NewRequest(http.MethodGet, "/auth/sign-in", nil))
	if rec.Code != http.StatusFound {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	loc, err := url.Parse(rec.Header().Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	q := loc.Query()
	if loc.Scheme+"://"+loc.Host+loc.Path != idp.AuthorizationEndpoint() {
		t.Errorf("redirect to %s, want the provider's %s", loc, idp.AuthorizationEndpoint())
	}
	for k, want := range map[string]string{"response_type": "code", "client_id": idp.ClientID,
		"redirect_uri": "http://hikyaku.example.com:8585/auth/callback", "scope": "openid email", "code_challenge_method": "S256"} {
		if got := q.Get(k); got != want {
			t.Errorf("%s=%q, want %q", k, got, want)
		}
	}
	c := cookieFrom(t, rec.Header(), FlowCookie)
	if !c.HttpOnly || c.Secure || c.SameSite != http.SameSiteLaxMode || c.MaxAge != 600 {
		t.Errorf("flow cookie %+v: want HttpOnly, not Secure (http), SameSite=Lax, Max-Age 600", c)
	}
	f, err := a.signer.parseFlow(c.Value, clock.t)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256([]byte(f.Verifier))
	if got, want := q.Get("code_challenge"), base64.RawURLEncoding.EncodeToString(sum[:]); got != want {
		t.Errorf("code_challenge %q, want S256 of the cookie's verifier %q", got, want)
	}
	if q.Get("state") != f.State || q.Get("nonce") != f.Nonce || f.State == f.Nonce {
		t.Errorf("state %q nonce %q, the cookie's %q and %q", q.Get("state"), q.Get("nonce"), f.State, f.Nonce)
	}
	if _, err := a.signer.parseFlow(c.Value, clock.t.Add(flowTTL)); err == nil {
		t.Error("the flow cookie still works after 10 minutes")
	}
}

func TestNewRefusesOIDCWithoutWhatItNeeds(t *testing.T) {
	// A loopback issuer nobody serves: none of these may get as far as discovery.
	oc := &config.OIDC{Issuer: "http://127.0.0.1:1", ClientID: "x", ClientSecret: config.NewSecret("y")}
	cfgFn := func() *config.Config { return &config.Config{} }
	if _, err := New(Options{SignIn: &config.SignIn{OIDC: oc}, Key: testKey, Config: cfgFn}); err == nil {
		t.Error("OIDC without an external URL was accepted: the provider could not redirect back")
	}
	if _, err := New(Options{SignIn: &config.SignIn{OIDC: oc}, Key: testKey[:16], ExternalURL: "https://h.example.com", Config: cfgFn}); err == nil {
		t.Error("a 16-byte session key was accepted")
	}
	noSecret := *oc
	noSecret.ClientSecret = config.Secret{Env: "HIKYAKU_TEST_UNSET_SECRET"}
	if _, err := New(Options{SignIn: &config.SignIn{OIDC: &noSecret}, Key: testKey, ExternalURL: "https://h.example.com", Config: cfgFn}); err == nil {
		t.Error("an unset client secret was accepted")
	}
}
