package access

import (
	"strings"
	"testing"
	"time"
)

// FuzzParseSession: the cookie parser never panics, and whatever it accepts
// is a session it could have written: its re-encoding parses to the same.
func FuzzParseSession(f *testing.F) {
	s := signer{key: testKey}
	issued := time.Unix(1_800_000_000, 0)
	f.Add(s.encodeSession(Session{ID: newID(), User: "alice", Method: MethodOIDC, Issued: issued, Expires: issued.Add(time.Hour)}))
	f.Add(s.sign(purposeSession, []byte("AAAAAAAAAAAAAAAAAAAAAA|alice|proxy|1|4000000000")))
	f.Add("")
	f.Add(".")
	f.Add("e30.e30")
	f.Fuzz(func(t *testing.T, v string) {
		now := issued.Add(time.Minute)
		ss, err := s.parseSession(v, now)
		if err != nil {
			return
		}
		if strings.Contains(ss.User, "|") || !validID(ss.ID) || !now.Before(ss.Expires) {
			t.Fatalf("accepted %+v from %q", ss, v)
		}
		again, err := s.parseSession(s.encodeSession(ss), now)
		if err != nil || again != ss {
			t.Fatalf("re-encoded %+v parses to %+v, %v", ss, again, err)
		}
	})
}

// FuzzParseFlow: the OIDC flow cookie's parser never panics either.
func FuzzParseFlow(f *testing.F) {
	s := signer{key: testKey}
	f.Add(s.encodeFlow(flow{State: "s", Nonce: "n", Verifier: "v", Expires: time.Unix(1_800_000_600, 0)}))
	f.Add("")
	f.Fuzz(func(t *testing.T, v string) {
		fl, err := s.parseFlow(v, time.Unix(1_800_000_000, 0))
		if err == nil && (fl.State == "" || fl.Nonce == "" || fl.Verifier == "") {
			t.Fatalf("accepted %+v from %q", fl, v)
		}
	})
}
