package router

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/hikyaku/hikyaku/store"
)

// createToken makes a token for user through the admin listener's API, as
// `hikyaku token create` does, and returns what it answered.
func createToken(t *testing.T, admin string, user string) TokenView {
	t.Helper()
	code, body := postJSON(t, admin+"/api/v1/tokens", fmt.Sprintf(`{"user":%q,"name":"test"}`, user))
	var v TokenView
	if code != 200 || json.Unmarshal([]byte(body), &v) != nil || v.Token == "" {
		t.Fatalf("create a token for %s: %d %s", user, code, body)
	}
	return v
}

func postJSON(t *testing.T, url, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest("POST", url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestAPITokenCreateUseRevokeReplay(t *testing.T) {
	h := newHarness(t, testConfig)
	s := &Server{Engine: h.engine}
	pub := httptest.NewServer(s.PublicHandler())
	admin := httptest.NewServer(s.AdminHandler())
	t.Cleanup(pub.Close)
	t.Cleanup(admin.Close)
	inc := h.post("firing", "g1", map[string]string{"alertname": "DiskFull"})[0]
	api := fmt.Sprintf("%s/api/v1/incidents/%d", pub.URL, inc.ID)

	if code, _ := do(t, "POST", pub.URL+"/api/v1/tokens", "", []byte(`{"user":"alice"}`)); code != 404 && code != 405 {
		t.Fatalf("token create on the public listener = %d, want 404", code)
	}
	if code, body := do(t, "POST", admin.URL+"/api/v1/tokens", "", []byte(`{"user":"alice"}`)); code != 415 {
		t.Fatalf("token create without Content-Type: application/json = %d %s, want 415 (a web page could post it)", code, body)
	}
	if code, body := postJSON(t, admin.URL+"/api/v1/tokens", `{"user":"alice","extra":1}`); code != 400 {
		t.Fatalf("token create with an unknown field = %d %s, want 400", code, body)
	}
	if code, body := postJSON(t, admin.URL+"/api/v1/tokens", `{"user":"mallory"}`); code != 400 || !strings.Contains(body, `no user "mallory"`) {
		t.Fatalf("token for an unknown user = %d %s, want 400 naming the user", code, body)
	}
	tok := createToken(t, admin.URL, "alice")
	if tok.User != "alice" || !tok.CreatedAt.Equal(t0) || !strings.HasPrefix(tok.Token, "hky_"+tok.ID+"_") {
		t.Fatalf("created token = %+v", tok)
	}

	// The listing never shows the value again.
	code, body := do(t, "GET", admin.URL+"/api/v1/tokens", "", nil)
	if code != 200 || !strings.Contains(body, tok.ID) || strings.Contains(body, tok.Token[len(tok.Token)-64:]) || strings.Contains(body, `"hash"`) {
		t.Fatalf("token list = %d %s", code, body)
	}

	if code, body := do(t, "POST", api+"/ack?by=bob", tok.Token, nil); code != 400 || !strings.Contains(body, "?by= is gone") {
		t.Fatalf("ack with ?by= = %d %s, want 400 saying why", code, body)
	}
	if code, body := do(t, "POST", api+"/ack", tok.Token, nil); code != 200 || !strings.Contains(body, `"acked_by": "alice"`) {
		t.Fatalf("ack with alice's token = %d %s", code, body)
	}
	tl, err := h.st.Timeline(t.Context(), inc.ID)
	if err != nil {
		t.Fatal(err)
	}
	// The ack is followed by alice taking the IC role it gives her.
	if n := len(tl); n < 2 || tl[n-2].Type != "acked" || tl[n-2].Actor != "alice" || tl[n-2].Detail["via"] != "api" || tl[n-1].Type != "role_assigned" {
		t.Fatalf("timeline ends %+v, want acked by alice via api, then role_assigned", tl[max(0, n-2):])
	}

	wrong := tok.Token[:len(tok.Token)-1] + "0"
	if wrong == tok.Token {
		wrong = tok.Token[:len(tok.Token)-1] + "1"
	}
	if code, _ := do(t, "GET", api, wrong, nil); code != 401 {
		t.Fatalf("a token with a wrong secret = %d, want 401", code)
	}

	code, body = do(t, "POST", admin.URL+"/api/v1/tokens/"+tok.ID+"/revoke", "", nil)
	if code != 200 || !strings.Contains(body, `"revoked_at"`) {
		t.Fatalf("revoke = %d %s", code, body)
	}
	if code, body := do(t, "POST", api+"/resolve", tok.Token, nil); code != 401 || !strings.Contains(body, "revoked") {
		t.Fatalf("replay after revoke = %d %s, want 401 saying revoked", code, body)
	}
	if got, _ := h.st.Get(t.Context(), inc.ID); got.Status != store.StatusAcked {
		t.Fatalf("a revoked token's resolve changed the incident: %s", got.Status)
	}
	if code, _ := do(t, "POST", admin.URL+"/api/v1/tokens/0123456789abcdef/revoke", "", nil); code != 404 {
		t.Fatalf("revoke of an unknown token = %d, want 404", code)
	}
	if code, _ := do(t, "POST", admin.URL+"/api/v1/tokens/..%2Fx/revoke", "", nil); code != 400 {
		t.Fatalf("revoke of a malformed id = %d, want 400", code)
	}
	m := h.engine.metrics.authFailures
	if bad, revoked := testutil.ToFloat64(m.WithLabelValues(authBad)), testutil.ToFloat64(m.WithLabelValues(authRevoked)); bad != 1 || revoked != 1 {
		t.Fatalf("auth failures bad=%v revoked=%v, want 1 and 1", bad, revoked)
	}
}

// The shared api_token acts as the service identity, never as a person.
func TestSharedAPITokenActsAsTheService(t *testing.T) {
	h := newHarness(t, testConfig)
	srv := httptest.NewServer((&Server{Engine: h.engine}).Handler())
	t.Cleanup(srv.Close)
	inc := h.post("firing", "g1", map[string]string{"alertname": "DiskFull"})[0]
	code, body := do(t, "POST", fmt.Sprintf("%s/api/v1/incidents/%d/ack", srv.URL, inc.ID), "test-api-token", nil)
	if code != 200 || !strings.Contains(body, `"acked_by": "api"`) {
		t.Fatalf("ack with the shared token = %d %s, want acked by api", code, body)
	}
}

// A token whose user left the configuration stops working.
func TestTokenOfARemovedUserIsRefused(t *testing.T) {
	withDave := strings.Replace(testConfig, "users:\n", "users:\n  - id: dave\n    contacts: {email: dave@example.com}\n", 1)
	h := newHarness(t, withDave)
	srv := httptest.NewServer((&Server{Engine: h.engine}).Handler())
	t.Cleanup(srv.Close)
	tok := createToken(t, srv.URL, "dave")
	if code, _ := do(t, "GET", srv.URL+"/api/v1/oncall", tok.Token, nil); code != 200 {
		t.Fatalf("dave's token = %d, want 200", code)
	}
	path := t.TempDir() + "/hikyaku.yml"
	if err := os.WriteFile(path, []byte(testConfig), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := h.engine.Reload(path); err != nil {
		t.Fatal(err)
	}
	if code, body := do(t, "GET", srv.URL+"/api/v1/oncall", tok.Token, nil); code != 401 || !strings.Contains(body, `"dave"`) {
		t.Fatalf("token of a removed user = %d %s, want 401 naming dave", code, body)
	}
}

// Ten failures from one source are heard; the eleventh attempt, right or
// wrong, gets 429 with Retry-After until the allowance refills, and
// another source is not held up meanwhile.
func TestAPIAuthFailuresThrottled(t *testing.T) {
	h := newHarness(t, testConfig)
	s := &Server{Engine: h.engine}
	hd := s.Handler()
	get := func(from, token string) *httptest.ResponseRecorder {
		r := httptest.NewRequest("GET", "/api/v1/oncall", nil)
		r.RemoteAddr = from + ":4242"
		r.Header.Set("Authorization", "Bearer "+token)
		w := httptest.NewRecorder()
		hd.ServeHTTP(w, r)
		return w
	}
	for i := range 10 {
		if w := get("192.0.2.1", "guess"); w.Code != http.StatusUnauthorized {
			t.Fatalf("failure %d = %d, want 401", i+1, w.Code)
		}
	}
	w := get("192.0.2.1", "test-api-token")
	if w.Code != http.StatusTooManyRequests || w.Header().Get("Retry-After") != "6" {
		t.Fatalf("after 10 failures = %d Retry-After %q, want 429 and 6", w.Code, w.Header().Get("Retry-After"))
	}
	if w := get("192.0.2.2", "test-api-token"); w.Code != http.StatusOK {
		t.Fatalf("another source = %d, want 200", w.Code)
	}
	h.clock.Add(5 * time.Second)
	if w := get("192.0.2.1", "test-api-token"); w.Code != http.StatusTooManyRequests || w.Header().Get("Retry-After") != "1" {
		t.Fatalf("5s later = %d Retry-After %q, want 429 and 1", w.Code, w.Header().Get("Retry-After"))
	}
	h.clock.Add(time.Second)
	if w := get("192.0.2.1", "test-api-token"); w.Code != http.StatusOK {
		t.Fatalf("6s later = %d, want 200", w.Code)
	}
	m := h.engine.metrics.authFailures
	if got := testutil.ToFloat64(m.WithLabelValues(authThrottled)); got != 2 {
		t.Fatalf("throttled = %v, want 2", got)
	}
	if got := testutil.ToFloat64(m.WithLabelValues(authBad)); got != 10 {
		t.Fatalf("bad = %v, want 10", got)
	}
}

// The throttle remembers at most authSourcesLimit sources: past it, new
// failing sources share one allowance until the remembered ones refill
// and are forgotten.
func TestAuthThrottleBoundsItsMemory(t *testing.T) {
	var th authThrottle
	now := t0
	for i := range authSourcesLimit {
		th.failed(fmt.Sprintf("10.0.%d.%d", i/256, i%256), now)
	}
	if n := len(th.sources); n != authSourcesLimit {
		t.Fatalf("%d sources remembered, want %d", n, authSourcesLimit)
	}
	for range authFailBurst {
		th.failed("192.0.2.9", now)
	}
	if len(th.sources) != authSourcesLimit || th.wait("192.0.2.10", now) == 0 {
		t.Fatalf("past the limit: %d sources, and a new source is not held by the shared allowance", len(th.sources))
	}
	later := now.Add(authFailBurst * authFailEvery)
	if th.wait("192.0.2.10", later) != 0 {
		t.Fatal("the shared allowance did not refill")
	}
	th.failed("192.0.2.11", later)
	if n := len(th.sources); n != 1 || th.sources["192.0.2.11"] == nil {
		t.Fatalf("after every allowance refilled: %d sources remembered, want only the new one", n)
	}
	if th.wait("203.0.113.1", later) != 0 {
		t.Fatal("a source that never failed is held")
	}
}
