package access

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"
)

func TestTrustedProxy(t *testing.T) {
	a, _, logs := newTestAuth(t)
	who := func(r *http.Request) (Identity, bool, *httptest.ResponseRecorder) {
		var got Identity
		var ok bool
		rec := httptest.NewRecorder()
		a.Identify(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			got, ok = FromContext(r.Context())
		})).ServeHTTP(rec, r)
		return got, ok, rec
	}

	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.RemoteAddr = "10.9.3.4:40000"
	r.Header.Set("X-Forwarded-Email", "Bob@Example.com")
	id, ok, rec := who(r)
	if !ok || id.User != "bob" || id.Method != MethodProxy {
		t.Fatalf("from the proxy: %+v %v, want bob by proxy", id, ok)
	}
	cookie := cookieFrom(t, rec.Header(), SessionCookie)
	contains(t, "audit", logs.String(), `"audit":true,"action":"sign_in","actor":"bob","channel":"proxy"`)

	// The next request has bob's session: no new one is started.
	r = httptest.NewRequest(http.MethodGet, "/", nil)
	r.RemoteAddr = "10.9.3.4:40001"
	r.Header.Set("X-Auth-Request-Email", "bob@example.com")
	r.AddCookie(cookie)
	if id2, ok, rec := who(r); !ok || id2.Session.ID != id.Session.ID || len(rec.Header().Values("Set-Cookie")) != 0 {
		t.Errorf("with bob's cookie: session %q (want %q), new cookies %q", id2.Session.ID, id.Session.ID, rec.Header().Values("Set-Cookie"))
	}

	// The same header from elsewhere: ignored, logged.
	logs.Reset()
	r = httptest.NewRequest(http.MethodGet, "/", nil)
	r.RemoteAddr = "192.0.2.7:5555"
	r.Header.Set("X-Forwarded-Email", "alice@example.com")
	r.Header.Set("X-Forwarded-For", "10.9.0.1") // not what is trusted
	if id, ok, _ := who(r); ok {
		t.Errorf("from 192.0.2.7: signed in as %+v, want nobody", id)
	}
	contains(t, "log", logs.String(), `"msg":"sign-in header from an address not in sign_in.trusted_proxy.sources ignored","header":"X-Forwarded-Email","source":"192.0.2.7:5555"`)

	// An email nobody has: a page that says so, and an audit line.
	logs.Reset()
	r = httptest.NewRequest(http.MethodGet, "/", nil)
	r.RemoteAddr = "[::ffff:10.9.0.1]:80"
	r.Header.Set("X-Forwarded-Email", "mallory@example.com")
	if id, ok, rec := who(r); ok || rec.Code != http.StatusForbidden {
		t.Errorf("unknown email: %+v %v, code %d, want 403", id, ok, rec.Code)
	} else {
		contains(t, "page", rec.Body.String(), "No user in hikyaku&#39;s configuration has the email address mallory@example.com")
	}
	contains(t, "audit", logs.String(), `"action":"sign_in","actor":"","channel":"proxy","source":"[::ffff:10.9.0.1]:80","auth_user":"","result":"refused"`)
	for result, want := range map[string]float64{"done": 1, "refused": 1} {
		if got := testutil.ToFloat64(a.metrics.signIns.WithLabelValues("proxy", result)); got != want {
			t.Errorf("hikyaku_sign_ins_total{method=proxy,result=%s} = %v, want %v", result, got, want)
		}
	}
}

func TestProxyTrusts(t *testing.T) {
	a, _, _ := newTestAuth(t)
	for addr, want := range map[string]bool{
		"10.9.0.0:1": true, "10.9.255.255:1": true, "10.10.0.0:1": false, "[::ffff:10.9.1.1]:1": true,
		"[::1]:1": false, "garbage": false, "": false,
	} {
		if got := a.proxy.trusts(addr); got != want {
			t.Errorf("trusts(%q) = %v, want %v", addr, got, want)
		}
	}
}
