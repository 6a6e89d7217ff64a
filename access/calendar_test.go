package access

import (
	"errors"
	"strings"
	"testing"
)

// TestCalendarTokenUnguessable: a calendar token holds 256 random bits of
// secret, is new each time, parses back, and only its secret's hash is
// what the store gets.
func TestCalendarTokenUnguessable(t *testing.T) {
	seen := map[string]bool{}
	ones := 0
	const n = 200
	for range n {
		id, value, hash, err := NewCalendarToken()
		if err != nil {
			t.Fatal(err)
		}
		if len(value) != len("hkc_")+16+1+64 || !strings.HasPrefix(value, "hkc_") {
			t.Fatalf("token %q: want hkc_ + 16 hex + _ + 64 hex", value)
		}
		pid, secret, err := ParseCalendarToken(value)
		if err != nil || pid != id || !SecretMatches(secret, hash) {
			t.Fatalf("ParseCalendarToken(%q) = %q, %q, %v", value, pid, secret, err)
		}
		if strings.Contains(string(hash), secret) || len(hash) != 32 {
			t.Fatalf("the stored hash %x is not a sha256 of the secret", hash)
		}
		if seen[secret] || seen[id] {
			t.Fatalf("token %q repeats an earlier id or secret", value)
		}
		seen[secret], seen[id] = true, true
		for _, c := range secret {
			b := strings.IndexRune("0123456789abcdef", c)
			for ; b > 0; b >>= 1 {
				ones += b & 1
			}
		}
	}
	// 256 bits per secret: about half are ones. 200 secrets make 51,200
	// bits; 4 standard deviations (±453) of a fair coin is far inside ±2,000.
	if half := n * 256 / 2; ones < half-2000 || ones > half+2000 {
		t.Errorf("%d one-bits in %d secrets of 256 bits: not random", ones, n)
	}
	if _, _, err := ParseCalendarToken("hky_0123456789abcdef_" + strings.Repeat("ab", 32)); !errors.Is(err, ErrBadCalendarToken) {
		t.Errorf("an API token parsed as a calendar token: %v", err)
	}
}

// FuzzParseCalendarToken: whatever the path holds, ParseCalendarToken
// either refuses it or gives an id and secret that rebuild exactly the
// value given.
func FuzzParseCalendarToken(f *testing.F) {
	f.Add("hkc_0123456789abcdef_" + strings.Repeat("ab", 32))
	f.Add("hkc_0123456789abcdef_")
	f.Add("hky_0123456789abcdef_" + strings.Repeat("ab", 32))
	f.Add("hkc_0123456789ABCDEF_" + strings.Repeat("ab", 32))
	f.Add("hkc_\x00_\xff")
	f.Fuzz(func(t *testing.T, v string) {
		id, secret, err := ParseCalendarToken(v)
		if err != nil {
			if !errors.Is(err, ErrBadCalendarToken) || id != "" || secret != "" {
				t.Fatalf("ParseCalendarToken(%q) = %q, %q, %v", v, id, secret, err)
			}
			return
		}
		if CalendarTokenPrefix+id+"_"+secret != v || !ValidTokenID(id) || len(secret) != 64 {
			t.Fatalf("ParseCalendarToken(%q) = %q, %q: does not rebuild the value", v, id, secret)
		}
	})
}
