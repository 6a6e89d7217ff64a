package access

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
)

// A per-user API token is "hky_" + a public id + "_" + a secret. The id
// finds the stored record without a scan and may be shown and logged (token
// list, audit lines); the secret is shown once, at creation, and only its
// sha256 is stored, so a copy of the store grants nothing. A random 32-byte
// secret needs no slow hash: it cannot be guessed, only stolen.
const (
	TokenPrefix = "hky_"
	idBytes     = 8  // 16 hex characters
	secretBytes = 32 // 64 hex characters
)

// ErrBadToken is a bearer value that is not a per-user token's shape.
var ErrBadToken = errors.New("not a hikyaku API token")

// NewToken makes a token: its public id, the whole value to hand the
// person once, and the hash to store.
func NewToken() (id, value string, hash []byte, err error) {
	var b [idBytes + secretBytes]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", "", nil, fmt.Errorf("access: reading random bytes for a token: %w", err)
	}
	id = hex.EncodeToString(b[:idBytes])
	secret := hex.EncodeToString(b[idBytes:])
	return id, TokenPrefix + id + "_" + secret, HashSecret(secret), nil
}

// ParseToken splits a bearer value into its id and secret; ErrBadToken
// for anything else (the legacy shared api_token among them).
func ParseToken(value string) (id, secret string, err error) {
	rest, ok := strings.CutPrefix(value, TokenPrefix)
	if !ok {
		return "", "", ErrBadToken
	}
	id, secret, ok = strings.Cut(rest, "_")
	if !ok || !isHex(id, idBytes) || !isHex(secret, secretBytes) {
		return "", "", ErrBadToken
	}
	return id, secret, nil
}

// ValidTokenID says whether id has the shape NewToken gives ids, for
// paths that name a token (revoke) before any lookup.
func ValidTokenID(id string) bool { return isHex(id, idBytes) }

// HashSecret is what the store keeps of a secret.
func HashSecret(secret string) []byte {
	h := sha256.Sum256([]byte(secret))
	return h[:]
}

// SecretMatches compares a presented secret with a stored hash in
// constant time.
func SecretMatches(secret string, hash []byte) bool {
	return subtle.ConstantTimeCompare(HashSecret(secret), hash) == 1
}

// isHex is s being exactly n bytes in lower-case hex, as NewToken writes
// them: one spelling per token, so no two values name the same one.
func isHex(s string, n int) bool {
	if len(s) != 2*n {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}
