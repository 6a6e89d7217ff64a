package access

import (
	"encoding/base64"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestSessionRoundTrip(t *testing.T) {
	s := signer{key: testKey}
	issued := time.Unix(1_800_000_000, 0)
	ss := Session{ID: newID(), User: "alice", Method: MethodOIDC, Issued: issued, Expires: issued.Add(time.Hour)}
	got, err := s.parseSession(s.encodeSession(ss), issued.Add(59*time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if got != ss {
		t.Errorf("parsed %+v, want %+v", got, ss)
	}
}

func TestSessionExpires(t *testing.T) {
	s := signer{key: testKey}
	issued := time.Unix(1_800_000_000, 0)
	v := s.encodeSession(Session{ID: newID(), User: "alice", Method: MethodOIDC, Issued: issued, Expires: issued.Add(time.Hour)})
	if _, err := s.parseSession(v, issued.Add(time.Hour)); !errors.Is(err, ErrExpiredSession) {
		t.Errorf("at its expiry: %v, want ErrExpiredSession", err)
	}
	if _, err := s.parseSession(v, issued.Add(time.Hour-time.Second)); err != nil {
		t.Errorf("a second before its expiry: %v", err)
	}
}

// TestSessionTampering: any change to a cookie's bytes, a cookie signed by
// another key, and a token signed for another purpose are all refused.
func TestSessionTampering(t *testing.T) {
	s := signer{key: testKey}
	issued := time.Unix(1_800_000_000, 0)
	now := issued.Add(time.Minute)
	good := s.encodeSession(Session{ID: newID(), User: "bob", Method: MethodProxy, Issued: issued, Expires: issued.Add(time.Hour)})
	for i := range good {
		for _, c := range []byte{'A', '_', '.', '-'} {
			if good[i] == c {
				continue
			}
			bad := good[:i] + string(c) + good[i+1:]
			if ss, err := s.parseSession(bad, now); err == nil {
				// base64's last character can carry unused bits: the same bytes decode.
				if ss.User != "bob" {
					t.Fatalf("byte %d set to %q: accepted as %+v", i, c, ss)
				}
			}
		}
	}
	// The payload rewritten to another user, the mac kept.
	p64, mac, _ := strings.Cut(good, ".")
	payload, _ := base64.RawURLEncoding.DecodeString(p64)
	forged := base64.RawURLEncoding.EncodeToString([]byte(strings.Replace(string(payload), "|bob|", "|alice|", 1))) + "." + mac
	if _, err := s.parseSession(forged, now); !errors.Is(err, ErrBadSession) {
		t.Errorf("user rewritten: %v, want ErrBadSession", err)
	}
	other := signer{key: []byte("another-key-another-key-another-")}
	if _, err := s.parseSession(other.encodeSession(Session{ID: newID(), User: "bob", Method: MethodOIDC, Issued: issued, Expires: issued.Add(time.Hour)}), now); !errors.Is(err, ErrBadSession) {
		t.Errorf("signed by another key: %v, want ErrBadSession", err)
	}
	sameShape := s.sign(purposeFlow, payload) // a flow cookie's purpose over a session's payload
	if _, err := s.parseSession(sameShape, now); !errors.Is(err, ErrBadSession) {
		t.Errorf("signed for the OIDC flow: %v, want ErrBadSession", err)
	}
	for _, v := range []string{"", ".", "abc", good + "." + mac, strings.Repeat("A", maxCookieBytes+1)} {
		if _, err := s.parseSession(v, now); !errors.Is(err, ErrBadSession) {
			t.Errorf("%.40q: %v, want ErrBadSession", v, err)
		}
	}
}

// TestSessionShapeChecked: a correctly signed payload of the wrong shape
// is refused all the same.
func TestSessionShapeChecked(t *testing.T) {
	s := signer{key: testKey}
	id := newID()
	for _, p := range []string{
		id + "|alice|oidc|100",                // a field short
		id + "|alice|oidc|100|200|x",          // one too many
		"short|alice|oidc|100|4000000000",     // not a 128-bit id
		id + "||oidc|100|4000000000",          // no user
		id + "|alice|password|100|4000000000", // unknown method
		id + "|alice|oidc|200|100",            // expires before issued
		id + "|alice|oidc|-5|4000000000",      // issued before 1970
		id + "|alice|oidc|1e3|4000000000",     // not decimal
	} {
		if _, err := s.parseSession(s.sign(purposeSession, []byte(p)), time.Unix(150, 0)); !errors.Is(err, ErrBadSession) {
			t.Errorf("%q: %v, want ErrBadSession", p, err)
		}
	}
}

func TestSessionCookieAttributes(t *testing.T) {
	a, clock, _ := newTestAuth(t)
	rec := httptest.NewRecorder()
	a.startSession(rec, httptest.NewRequest(http.MethodGet, "/", nil), "alice", MethodOIDC)
	c := cookieFrom(t, rec.Header(), SessionCookie)
	if !c.HttpOnly || !c.Secure || c.SameSite != http.SameSiteLaxMode || c.Path != "/" {
		t.Errorf("cookie %+v: want HttpOnly, Secure (the external URL is https), SameSite=Lax, Path=/", c)
	}
	if want := clock.t.Add(time.Hour); !c.Expires.Equal(want) {
		t.Errorf("expires %s, want %s (session_ttl 1h)", c.Expires, want)
	}
	if c.MaxAge != 3600 {
		t.Errorf("Max-Age %d, want 3600", c.MaxAge)
	}
}

func TestLoadOrCreateKey(t *testing.T) {
	dir := t.TempDir()
	k1, err := LoadOrCreateKey(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(k1) != 32 {
		t.Fatalf("key of %d bytes, want 32", len(k1))
	}
	fi, err := os.Stat(filepath.Join(dir, KeyFile))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file: %v, mode %v, want 0600", err, fi.Mode())
	}
	k2, err := LoadOrCreateKey(dir)
	if err != nil || string(k2) != string(k1) {
		t.Errorf("second load: %v, same key %v", err, string(k2) == string(k1))
	}
	os.WriteFile(filepath.Join(dir, KeyFile), []byte("short"), 0o600)
	if _, err := LoadOrCreateKey(dir); err == nil || !strings.Contains(err.Error(), "has 5 bytes, want 32") {
		t.Errorf("short key file: %v", err)
	}
}
