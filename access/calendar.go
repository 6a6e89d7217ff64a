package access

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
)

// A calendar feed's token is "hkc_" + a public id + "_" + a secret, like an
// API token but apart from them: it sits in a URL that Google Calendar or
// Outlook fetches without any header, so it is the credential, and it opens
// one feed and nothing else. The id finds the stored record; only the
// secret's sha256 is stored (HashSecret). 32 random bytes of secret are
// 256 bits: no one guesses one, a URL can only be leaked, and a leaked one
// is replaced by making a new one.
const CalendarTokenPrefix = "hkc_"

// ErrBadCalendarToken is a path segment that is not a calendar token's shape.
var ErrBadCalendarToken = errors.New("not a hikyaku calendar token")

// NewCalendarToken makes a calendar token: its public id, the whole value
// to put in the URL, and the hash to store.
func NewCalendarToken() (id, value string, hash []byte, err error) {
	var b [idBytes + secretBytes]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", "", nil, fmt.Errorf("access: reading random bytes for a calendar token: %w", err)
	}
	id = hex.EncodeToString(b[:idBytes])
	secret := hex.EncodeToString(b[idBytes:])
	return id, CalendarTokenPrefix + id + "_" + secret, HashSecret(secret), nil
}

// ParseCalendarToken splits a calendar token into its id and secret;
// ErrBadCalendarToken for anything else, an API token among them.
func ParseCalendarToken(value string) (id, secret string, err error) {
	rest, ok := strings.CutPrefix(value, CalendarTokenPrefix)
	if !ok {
		return "", "", ErrBadCalendarToken
	}
	id, secret, ok = strings.Cut(rest, "_")
	if !ok || !isHex(id, idBytes) || !isHex(secret, secretBytes) {
		return "", "", ErrBadCalendarToken
	}
	return id, secret, nil
}
