package access

import (
	"errors"
	"strings"
	"testing"
)

func TestNewTokenParsesBackAndMatchesItsHash(t *testing.T) {
	id, value, hash, err := NewToken()
	if err != nil {
		t.Fatal(err)
	}
	if len(value) != len("hky_")+16+1+64 {
		t.Fatalf("token %q: length %d, want %d", value, len(value), 4+16+1+64)
	}
	gotID, secret, err := ParseToken(value)
	if err != nil {
		t.Fatalf("ParseToken(NewToken()): %v", err)
	}
	if gotID != id || !ValidTokenID(id) {
		t.Fatalf("id %q, parsed %q", id, gotID)
	}
	if !SecretMatches(secret, hash) {
		t.Fatal("the token's own secret does not match its hash")
	}
	if SecretMatches(strings.Repeat("0", 64), hash) {
		t.Fatal("another secret matches the hash")
	}
	_, other, _, _ := NewToken()
	if other == value {
		t.Fatal("two tokens are equal")
	}
}

func TestParseTokenRefuses(t *testing.T) {
	good := "hky_0123456789abcdef_" + strings.Repeat("ab", 32)
	if _, _, err := ParseToken(good); err != nil {
		t.Fatalf("ParseToken(%q): %v", good, err)
	}
	for _, v := range []string{
		"", "demo", "hky_", "hky__",
		"hky_0123456789abcdef",                                   // no secret
		"hky_0123456789abcde_" + strings.Repeat("ab", 32),        // short id
		"hky_0123456789ABCDEF_" + strings.Repeat("ab", 32),       // upper case: a second spelling
		"hky_0123456789abcdef_" + strings.Repeat("ab", 31),       // short secret
		"hky_0123456789abcdef_" + strings.Repeat("ab", 32) + "_", // trailing
		"HKY_0123456789abcdef_" + strings.Repeat("ab", 32),
		" " + good,
	} {
		if _, _, err := ParseToken(v); !errors.Is(err, ErrBadToken) {
			t.Errorf("ParseToken(%q) = %v, want ErrBadToken", v, err)
		}
	}
}

// FuzzParseToken: whatever the header holds, ParseToken either refuses it
// or gives an id and secret that rebuild exactly the value given.
func FuzzParseToken(f *testing.F) {
	f.Add("hky_0123456789abcdef_" + strings.Repeat("ab", 32))
	f.Add("hky_0123456789abcdef_")
	f.Add("demo")
	f.Add("hky_\x00_\xff")
	f.Fuzz(func(t *testing.T, v string) {
		id, secret, err := ParseToken(v)
		if err != nil {
			if !errors.Is(err, ErrBadToken) || id != "" || secret != "" {
				t.Fatalf("ParseToken(%q) = %q, %q, %v", v, id, secret, err)
			}
			return
		}
		if TokenPrefix+id+"_"+secret != v || !ValidTokenID(id) || len(secret) != 64 {
			t.Fatalf("ParseToken(%q) = %q, %q: does not rebuild the value", v, id, secret)
		}
	})
}
