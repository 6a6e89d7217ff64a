package access

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"
)

// signedIn is a request carrying a session cookie for user.
func signedIn(t *testing.T, a *Auth, method, target, body, user string) (*http.Request, Session) {
	t.Helper()
	rec := httptest.NewRecorder()
	ss := a.startSession(rec, httptest.NewRequest(http.MethodGet, "/", nil), user, MethodOIDC)
	r := httptest.NewRequest(method, target, strings.NewReader(body))
	if body != "" {
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	r.AddCookie(cookieFrom(t, rec.Header(), SessionCookie))
	return r, ss
}

// through runs r through Identify and CSRF to a handler that says "passed".
func through(a *Auth, r *http.Request) (int, string) {
	rec := httptest.NewRecorder()
	a.Identify(a.CSRF(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "passed")
	}))).ServeHTTP(rec, r)
	return rec.Code, rec.Body.String()
}

func TestCSRF(t *testing.T) {
	a, _, logs := newTestAuth(t)
	r, ss := signedIn(t, a, http.MethodGet, "/", "", "alice")
	if code, body := through(a, r); code != 200 || body != "passed" {
		t.Errorf("GET needs no token: %d %q", code, body)
	}
	token := a.CSRFToken(ss)

	r, _ = signedIn(t, a, http.MethodPost, "/console/incidents/1/ack", "", "alice")
	if code, body := through(a, r); code != http.StatusForbidden {
		t.Errorf("POST without a token: %d %q, want 403", code, body)
	} else {
		// alice reads Japanese.
		contains(t, "refusal page", body, "このフォームは拒否されました: missing or wrong CSRF token")
	}
	contains(t, "log", logs.String(), `"reason":"missing or wrong CSRF token"`)

	// Another session's token, for the same user.
	r, _ = signedIn(t, a, http.MethodPost, "/x", url.Values{CSRFField: {token}}.Encode(), "alice")
	if code, _ := through(a, r); code != http.StatusForbidden {
		t.Errorf("POST with another session's token: %d, want 403", code)
	}

	r, ss = signedIn(t, a, http.MethodPost, "/x", "", "bob")
	r2, _ := signedIn(t, a, http.MethodPost, "/x", url.Values{CSRFField: {a.CSRFToken(ss)}}.Encode(), "bob")
	r2.Header.Del("Cookie")
	r2.Header.Set("Cookie", r.Header.Get("Cookie"))
	if code, body := through(a, r2); code != 200 || body != "passed" {
		t.Errorf("POST with its session's token in the form: %d %q", code, body)
	}
	r3, _ := signedIn(t, a, http.MethodPost, "/x", "", "bob")
	r3.Header.Set("Cookie", r.Header.Get("Cookie"))
	r3.Header.Set(CSRFHeader, a.CSRFToken(ss))
	if code, _ := through(a, r3); code != 200 {
		t.Errorf("POST with its session's token in %s: %d", CSRFHeader, code)
	}
	r4 := httptest.NewRequest(http.MethodPost, "/x", strings.NewReader(url.Values{CSRFField: {token}}.Encode()))
	r4.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if code, _ := through(a, r4); code != http.StatusForbidden {
		t.Errorf("POST with a token but no session: %d, want 403", code)
	}
}

// TestCSRFTokenIsBoundToTheSession: the token is a function of the session
// id alone, so it survives nothing but that session, and a changed key
// changes it.
func TestCSRFTokenIsBoundToTheSession(t *testing.T) {
	a, _, _ := newTestAuth(t)
	ss := Session{ID: newID(), User: "alice", Method: MethodOIDC, Expires: time.Now().Add(time.Hour)}
	t1 := a.CSRFToken(ss)
	ss2 := ss
	ss2.Expires = ss.Expires.Add(time.Hour)
	if a.CSRFToken(ss2) != t1 {
		t.Error("token changed with the expiry: it must depend on the session id only")
	}
	ss2.ID = newID()
	if a.CSRFToken(ss2) == t1 {
		t.Error("two sessions share a token")
	}
	b := *a
	b.signer = signer{key: []byte("another-key-another-key-another-")}
	if b.CSRFToken(ss) == t1 {
		t.Error("the token does not depend on the key")
	}
	if len(t1) != 43 {
		t.Errorf("token %q: want 43 characters (256 bits, base64url)", t1)
	}
}
