package router

import (
	"strings"
	"testing"
	"time"
)

// FuzzVerifyLink: any token either verifies to the claims it was signed
// with or is refused, never panics; a token signed here verifies to
// exactly what was signed, with or without a nonce, and any change to one
// of its characters is refused.
func FuzzVerifyLink(f *testing.F) {
	f.Add(int64(12), "escalate", "alice", "q1w2e3r4t5y", 3, "")
	f.Add(int64(1), "ack", "bob", "", 0, "MXxhY2t8Ym9ifDE3OTk5OTk5OTk.AAAAAAAAAAAAAAAAAAAAAA")
	f.Add(int64(-5), "resolve", "x|y", "n|m", 200, "..")
	key := []byte("0123456789abcdef-test-key")
	now := time.Date(2026, 1, 7, 5, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, id int64, action, user, nonce string, flip int, raw string) {
		if l, err := verifyLink(key, raw, now); err == nil {
			// Only a token signed with key verifies; re-signing what it
			// says must name the same claims.
			if again, err := verifyLink(key, signLink(key, l), now); err != nil || !sameLink(again, l) {
				t.Fatalf("%q verified as %+v, which re-signed verifies as %+v, %v", raw, l, again, err)
			}
		}
		l := link{Incident: id, Action: action, User: user, Expires: now.Add(time.Hour), Nonce: nonce}
		token := signLink(key, l)
		got, err := verifyLink(key, token, now)
		valid := (action == "ack" || action == "resolve" || action == "escalate") &&
			!strings.Contains(user, "|") && !strings.Contains(nonce, "|")
		switch {
		case valid && (err != nil || !sameLink(got, l)):
			t.Fatalf("signed %+v, verified as %+v, %v", l, got, err)
		case !valid && err == nil && sameLink(got, l):
			t.Fatalf("signed %+v with an invalid action or a '|', and it verified", l)
		}
		if len(token) == 0 {
			return
		}
		i := (flip%len(token) + len(token)) % len(token)
		b := []byte(token)
		if b[i] == 'A' {
			b[i] = 'B'
		} else {
			b[i] = 'A'
		}
		if tampered, err := verifyLink(key, string(b), now); err == nil && sameLink(tampered, l) && string(b) != token {
			// A changed base64 character can decode to the same bytes only
			// in the last, partial group; the claims then are unchanged.
			if c, _, _ := strings.Cut(token, "."); i != len(c)-1 && i != len(token)-1 {
				t.Fatalf("token changed at %d still verifies: %q", i, b)
			}
		}
	})
}

// sameLink compares links; Expires by instant, as verifyLink reads it in
// the local zone.
func sameLink(a, b link) bool {
	return a.Incident == b.Incident && a.Action == b.Action && a.User == b.User && a.Nonce == b.Nonce && a.Expires.Equal(b.Expires)
}
