package access

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// SessionCookie is the console session's cookie.
const SessionCookie = "hikyaku_session"

// KeyFile is the session key serve generates into the embedded store's
// directory when the configuration gives none.
const KeyFile = "session.key"

// keyBytes is an HMAC-SHA256 key's size: what a generated key has.
const keyBytes = 32

// maxCookieBytes bounds what the parser reads: a session's token is about
// 150 bytes, and a longer one is refused before any decoding.
const maxCookieBytes = 1024

// Session is one signed-in browser: who, by which method, until when.
type Session struct {
	// ID is 128 random bits; the CSRF token is derived from it.
	ID      string
	User    string
	Method  string // MethodOIDC or MethodProxy
	Issued  time.Time
	Expires time.Time
}

// The ways a person signs in.
const (
	MethodOIDC  = "oidc"
	MethodProxy = "proxy"
)

// Errors the session parser returns; a request with either is treated as
// not signed in.
var (
	ErrBadSession     = errors.New("session cookie is malformed or its signature is wrong")
	ErrExpiredSession = errors.New("session has expired")
)

// The purposes a signer signs for: a token made for one is refused as the
// other, so an OIDC flow cookie can never pass as a session.
const (
	purposeSession = "hikyaku-session-v1"
	purposeFlow    = "hikyaku-oidc-flow-v1"
	purposeCSRF    = "hikyaku-csrf-v1"
)

// signer makes and checks HMAC-SHA256 tokens: base64url(payload) "."
// base64url(mac), the mac over the purpose and the payload.
type signer struct{ key []byte }

func (s signer) mac(purpose string, payload []byte) []byte {
	m := hmac.New(sha256.New, s.key)
	m.Write([]byte(purpose))
	m.Write([]byte{0})
	m.Write(payload)
	return m.Sum(nil)
}

func (s signer) sign(purpose string, payload []byte) string {
	return base64.RawURLEncoding.EncodeToString(payload) + "." + base64.RawURLEncoding.EncodeToString(s.mac(purpose, payload))
}

// open returns the payload of a token whose mac is right.
func (s signer) open(purpose, token string) ([]byte, error) {
	if len(token) > maxCookieBytes || len(s.key) == 0 {
		return nil, ErrBadSession
	}
	p64, m64, ok := strings.Cut(token, ".")
	if !ok {
		return nil, ErrBadSession
	}
	payload, err1 := base64.RawURLEncoding.DecodeString(p64)
	mac, err2 := base64.RawURLEncoding.DecodeString(m64)
	if err1 != nil || err2 != nil || !hmac.Equal(mac, s.mac(purpose, payload)) {
		return nil, ErrBadSession
	}
	return payload, nil
}

// encodeSession is a session's cookie value: id|user|method|issued|expires.
func (s signer) encodeSession(ss Session) string {
	payload := strings.Join([]string{ss.ID, ss.User, ss.Method,
		strconv.FormatInt(ss.Issued.Unix(), 10), strconv.FormatInt(ss.Expires.Unix(), 10)}, "|")
	return s.sign(purposeSession, []byte(payload))
}

// parseSession checks a cookie value's signature, then its fields, then
// its expiry at now. The fields are checked even though the signature
// holds: a key shared with an older hikyaku must not make it trust a shape
// it never wrote.
func (s signer) parseSession(value string, now time.Time) (Session, error) {
	payload, err := s.open(purposeSession, value)
	if err != nil {
		return Session{}, err
	}
	f := strings.Split(string(payload), "|")
	if len(f) != 5 || !validID(f[0]) || f[1] == "" || (f[2] != MethodOIDC && f[2] != MethodProxy) {
		return Session{}, ErrBadSession
	}
	issued, err1 := strconv.ParseInt(f[3], 10, 64)
	expires, err2 := strconv.ParseInt(f[4], 10, 64)
	if err1 != nil || err2 != nil || issued < 0 || expires < issued {
		return Session{}, ErrBadSession
	}
	ss := Session{ID: f[0], User: f[1], Method: f[2], Issued: time.Unix(issued, 0), Expires: time.Unix(expires, 0)}
	if !now.Before(ss.Expires) {
		return Session{}, ErrExpiredSession
	}
	return ss, nil
}

// newID is 128 random bits, base64url: 22 characters.
func newID() string {
	b := make([]byte, 16)
	rand.Read(b) // never fails (crypto/rand, Go 1.24)
	return base64.RawURLEncoding.EncodeToString(b)
}

func validID(id string) bool {
	b, err := base64.RawURLEncoding.DecodeString(id)
	return err == nil && len(b) == 16
}

// cookieOptions are the attributes every cookie hikyaku sets carries.
type cookieOptions struct {
	// Secure is set when the console is reached over https (the external
	// URL says so, or this listener has TLS): the browser then never sends
	// the cookie in the clear.
	Secure bool
	// Path is the external URL's path, so a cookie is not sent to other
	// applications under the same host.
	Path string
}

// set writes a cookie that lasts until expires. SameSite=Lax: sent on a
// top-level navigation from elsewhere (the provider's redirect back), never
// on another site's POST.
func (o cookieOptions) set(w http.ResponseWriter, r *http.Request, name, value string, now, expires time.Time) {
	http.SetCookie(w, &http.Cookie{Name: name, Value: value, Path: o.Path, Expires: expires.UTC(),
		MaxAge: max(1, int(expires.Sub(now).Seconds())), HttpOnly: true, Secure: o.Secure || r.TLS != nil,
		SameSite: http.SameSiteLaxMode})
}

// clear tells the browser to drop a cookie.
func (o cookieOptions) clear(w http.ResponseWriter, r *http.Request, name string) {
	http.SetCookie(w, &http.Cookie{Name: name, Value: "", Path: o.Path, MaxAge: -1, Expires: time.Unix(1, 0).UTC(),
		HttpOnly: true, Secure: o.Secure || r.TLS != nil, SameSite: http.SameSiteLaxMode})
}

// LoadOrCreateKey reads the session key kept in dir, making one on first
// use. It is written once with O_EXCL, so two processes starting together
// cannot each write their own and refuse each other's cookies.
func LoadOrCreateKey(dir string) ([]byte, error) {
	path := filepath.Join(dir, KeyFile)
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		key := make([]byte, keyBytes)
		rand.Read(key)
		f, cerr := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if errors.Is(cerr, fs.ErrExist) {
			return LoadOrCreateKey(dir) // the other one won: use its key
		}
		if cerr != nil {
			return nil, fmt.Errorf("creating session key %s: %w", path, cerr)
		}
		if _, werr := f.Write(key); werr != nil {
			f.Close()
			os.Remove(path)
			return nil, fmt.Errorf("writing session key %s: %w", path, werr)
		}
		if serr := f.Sync(); serr != nil {
			f.Close()
			os.Remove(path)
			return nil, fmt.Errorf("writing session key %s: %w", path, serr)
		}
		if err := f.Close(); err != nil {
			return nil, fmt.Errorf("writing session key %s: %w", path, err)
		}
		return key, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading session key: %w", err)
	}
	if len(b) < keyBytes {
		return nil, fmt.Errorf("session key %s has %d bytes, want %d: delete it to have a new one made (everyone signs in again)", path, len(b), keyBytes)
	}
	return b, nil
}
