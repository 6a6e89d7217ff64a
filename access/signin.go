package access

import (
	"context"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/hikyaku/hikyaku/catalog"
	"github.com/hikyaku/hikyaku/config"
)

// The paths sign-in serves, under the external URL's path.
const (
	SignInPath   = "/auth/sign-in"
	CallbackPath = "/auth/callback"
	SignOutPath  = "/auth/sign-out"
)

// Options configure sign-in.
type Options struct {
	SignIn *config.SignIn
	// Key signs session cookies (sign_in.session_key, or the generated
	// KeyFile): at least 32 bytes.
	Key []byte
	// ExternalURL is --web.external-url: the OIDC redirect URL is under
	// it, and https there makes every cookie Secure.
	ExternalURL string
	// Config is the configuration in force, read on every request so a
	// reload's users take effect at once.
	Config func() *config.Config
	Log    *slog.Logger
	// Now is the clock; nil is time.Now.
	Now func() time.Time
	// HTTPClient reaches the OpenID provider; nil is a client with a 10 s timeout.
	HTTPClient *http.Client
	// Metrics count sign-ins; nil counts nothing.
	Metrics *Metrics
}

// Auth proves who a console request comes from.
type Auth struct {
	signer  signer
	ttl     time.Duration
	cookies cookieOptions
	base    string // the external URL's path, without its trailing slash
	config  func() *config.Config
	log     *slog.Logger
	now     func() time.Time
	oidc    *oidcClient   // nil: no OpenID Connect
	proxy   *trustedProxy // nil: no trusted proxy
	metrics *Metrics
}

// New checks the options and, with OIDC, starts discovering the provider.
// A provider that cannot be reached does not stop hikyaku: paging must not
// depend on it; the error is logged and discovery is retried at each
// sign-in, which says so to the person.
func New(o Options) (*Auth, error) {
	if o.SignIn == nil {
		return nil, errors.New("sign_in is not configured")
	}
	if len(o.Key) < config.MinSessionKeyBytes {
		return nil, fmt.Errorf("session key has %d bytes, want at least %d", len(o.Key), config.MinSessionKeyBytes)
	}
	a := &Auth{signer: signer{key: o.Key}, ttl: o.SignIn.SessionTTL.D(), config: o.Config, log: o.Log, now: o.Now, metrics: o.Metrics}
	if a.ttl <= 0 {
		a.ttl = config.DefaultSessionTTL
	}
	if a.now == nil {
		a.now = time.Now
	}
	if a.log == nil {
		a.log = slog.Default()
	}
	ext, err := url.Parse(o.ExternalURL)
	if o.ExternalURL != "" && (err != nil || ext.Host == "" || (ext.Scheme != "http" && ext.Scheme != "https")) {
		return nil, fmt.Errorf("--web.external-url %q: want http:// or https:// with a host", o.ExternalURL)
	}
	if o.ExternalURL != "" {
		a.base = strings.TrimRight(ext.Path, "/")
		a.cookies.Secure = ext.Scheme == "https"
	}
	a.cookies.Path = a.base + "/"
	if p := o.SignIn.TrustedProxy; p != nil {
		a.proxy = &trustedProxy{sources: p.Prefixes}
	}
	if oc := o.SignIn.OIDC; oc != nil {
		if o.ExternalURL == "" {
			return nil, errors.New("sign_in.oidc needs --web.external-url (or global.external_url): the provider redirects the browser back to it")
		}
		secret, ok := oc.ClientSecret.Reveal()
		if !ok {
			return nil, errors.New("sign_in.oidc.client_secret is not set: the provider refuses the code exchange without it")
		}
		client := o.HTTPClient
		if client == nil {
			client = &http.Client{Timeout: 10 * time.Second}
		}
		a.oidc = newOIDCClient(oc, secret, strings.TrimRight(o.ExternalURL, "/")+CallbackPath, client, a.now)
		// In the background: a provider that hangs must not hold up paging.
		go func() {
			if _, err := a.oidc.get(); err != nil {
				a.log.Error("the OpenID provider cannot be reached: sign-in tries again at each attempt; paging is not affected",
					"issuer", oc.Issuer, "err", err)
			}
		}()
	}
	return a, nil
}

// Identity is who a request is signed in as.
type Identity struct {
	User    string
	Method  string
	Session Session
}

type identityKey struct{}

// FromContext is the identity Identify attached to ctx.
func FromContext(ctx context.Context) (Identity, bool) {
	id, ok := ctx.Value(identityKey{}).(Identity)
	return id, ok
}

// Identify attaches the request's identity to its context: the trusted
// proxy's header, when it is configured and the peer is the proxy, else
// the session cookie. A request without either goes on unidentified;
// the handler decides what that means.
func (a *Auth) Identify(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if a.proxy != nil {
			id, handled := a.proxyIdentity(w, r)
			if handled {
				return
			}
			if id != nil {
				next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), identityKey{}, *id)))
				return
			}
		}
		if ss, ok := a.session(r); ok {
			r = r.WithContext(context.WithValue(r.Context(), identityKey{}, Identity{User: ss.User, Method: ss.Method, Session: ss}))
		}
		next.ServeHTTP(w, r)
	})
}

// session is the request's valid session cookie whose user is still
// configured.
func (a *Auth) session(r *http.Request) (Session, bool) {
	c, err := r.Cookie(SessionCookie)
	if err != nil {
		return Session{}, false
	}
	ss, err := a.signer.parseSession(c.Value, a.now())
	if err != nil {
		if !errors.Is(err, ErrExpiredSession) {
			a.log.Warn("session cookie refused", "source", r.RemoteAddr, "err", err)
		}
		return Session{}, false
	}
	if a.config().User(ss.User) == nil {
		a.log.Warn("session of a user no longer configured refused", "user", ss.User, "source", r.RemoteAddr)
		return Session{}, false
	}
	return ss, true
}

// startSession signs user in: a new session and its cookie.
func (a *Auth) startSession(w http.ResponseWriter, r *http.Request, user, method string) Session {
	now := a.now()
	ss := Session{ID: newID(), User: user, Method: method, Issued: now, Expires: now.Add(a.ttl)}
	a.cookies.set(w, r, SessionCookie, a.signer.encodeSession(ss), now, ss.Expires)
	return ss
}

// SignOut ends the session: its cookie is cleared, and the browser is sent
// to the signed-out page. It must run behind Identify and CSRF, so another
// site cannot sign a person out.
func (a *Auth) SignOut(w http.ResponseWriter, r *http.Request) {
	id, _ := FromContext(r.Context())
	a.cookies.clear(w, r, SessionCookie)
	a.audit(r, "sign_out", id.Method, id.User, "done", nil)
	lang := a.lang(id.User)
	a.page(w, http.StatusOK, lang, catalog.Text(lang, "console.signed_out"), true)
}

// Path is p under the external URL's path, for links and form actions.
func (a *Auth) Path(p string) string { return a.base + p }

// OIDC says whether sign-in by OpenID Connect is configured.
func (a *Auth) OIDC() bool { return a.oidc != nil }

// lang is user's language, or the configuration's for nobody.
func (a *Auth) lang(user string) string {
	cfg := a.config()
	if u := cfg.User(user); u != nil && u.Language != "" {
		return u.Language
	}
	if cfg.Global.Language != "" {
		return cfg.Global.Language
	}
	return catalog.Fallback
}

// audit writes an audit line in the format of the engine's
// (docs/operations.md, "Audit log"): action sign_in or sign_out.
func (a *Auth) audit(r *http.Request, action, channel, actor, result string, err error) {
	level := slog.LevelInfo
	if result != "done" {
		level = slog.LevelWarn
	}
	attrs := []slog.Attr{slog.Bool("audit", true), slog.String("action", action), slog.String("actor", actor),
		slog.String("channel", channel), slog.String("source", r.RemoteAddr), slog.String("auth_user", actor),
		slog.String("result", result)}
	if err != nil {
		attrs = append(attrs, slog.String("error", err.Error()))
	}
	if action == "sign_in" {
		a.metrics.count(channel, result)
	}
	a.log.LogAttrs(context.WithoutCancel(r.Context()), level, "audit", attrs...)
}

var pageTemplate = template.Must(template.New("page").Parse(`<!doctype html>
<html lang="{{.Lang}}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>hikyaku</title>
<style>body{font-family:sans-serif;max-width:40em;margin:2em auto;padding:0 1em}</style></head>
<body><h1>hikyaku</h1><p>{{.Text}}</p>{{if .SignIn}}<p><a href="{{.SignIn}}">{{.SignInText}}</a></p>{{end}}</body></html>
`))

// page answers with a short HTML page saying text; signIn adds a link to
// sign in (again). The caller's wrapper has set the security headers.
func (a *Auth) page(w http.ResponseWriter, code int, lang, text string, signIn bool) {
	v := struct{ Lang, Text, SignIn, SignInText string }{Lang: lang, Text: text}
	if signIn && a.oidc != nil {
		v.SignIn, v.SignInText = a.Path(SignInPath), catalog.Text(lang, "console.sign_in")
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	if err := pageTemplate.Execute(w, v); err != nil {
		a.log.Warn("writing a sign-in page failed", "err", err)
	}
}
