package router

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/time/rate"

	"github.com/hikyaku/hikyaku/access"
	"github.com/hikyaku/hikyaku/store"
)

// ServiceActor is the name the shared global.api_token acts under: a
// service identity, never a person, so the timeline says a script with the
// deployment's token did it, not who ran the script.
const ServiceActor = access.ServiceActor

// Identity is who an API request proved to be.
type Identity struct {
	User    string // a configured user's id, or ServiceActor
	TokenID string // the per-user token's public id; "" for the shared api_token
}

type identityKey struct{}

func withIdentity(ctx context.Context, id Identity) context.Context {
	return context.WithValue(ctx, identityKey{}, id)
}

// IdentityOf is the identity the API's authentication attached to ctx.
func IdentityOf(ctx context.Context) (Identity, bool) {
	id, ok := ctx.Value(identityKey{}).(Identity)
	return id, ok
}

// Failed authentications a source may make in a burst, and how fast its
// allowance comes back: a person mistyping a token a few times is never
// held up, a script guessing tokens gets ten tries a minute.
const (
	authFailBurst    = 10
	authFailEvery    = 6 * time.Second
	authSourcesLimit = 10000 // sources remembered; past it, new ones share one allowance
)

// The results hikyaku_api_auth_failures_total counts.
const (
	authMissing   = "missing"   // no bearer token
	authBad       = "bad"       // unknown token or wrong secret, or not the shared token
	authRevoked   = "revoked"   // a revoked token
	authNoUser    = "no_user"   // a token whose user the configuration no longer has
	authThrottled = "throttled" // refused unread: the source failed too often
)

func newAuthFailures(f func(prometheus.Collector)) *prometheus.CounterVec {
	c := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "hikyaku_api_auth_failures_total",
		Help: "API requests refused for their credential, by result (missing, bad, revoked, no_user: 401; throttled: 429)."},
		[]string{"result"})
	for _, r := range []string{authMissing, authBad, authRevoked, authNoUser, authThrottled} {
		c.WithLabelValues(r)
	}
	f(c)
	return c
}

// authThrottle remembers each source's failed authentications.
type authThrottle struct {
	mu       sync.Mutex
	sources  map[string]*rate.Limiter
	overflow *rate.Limiter
}

func newLimiter() *rate.Limiter { return rate.NewLimiter(rate.Every(authFailEvery), authFailBurst) }

// limiter is src's allowance; create makes one for a source never seen
// (a failure), else such a source has none (nil): it never failed.
func (t *authThrottle) limiter(src string, now time.Time, create bool) *rate.Limiter {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.sources == nil {
		t.sources, t.overflow = map[string]*rate.Limiter{}, newLimiter()
	}
	if l := t.sources[src]; l != nil || !create {
		if l == nil && len(t.sources) >= authSourcesLimit {
			return t.overflow // it may have failed while the map was full
		}
		return l
	}
	if len(t.sources) >= authSourcesLimit {
		// A full allowance holds nothing worth remembering.
		for k, l := range t.sources {
			if l.TokensAt(now) >= authFailBurst {
				delete(t.sources, k)
			}
		}
		if len(t.sources) >= authSourcesLimit {
			return t.overflow
		}
	}
	l := newLimiter()
	t.sources[src] = l
	return l
}

// wait is how long src must wait before it is heard again; 0 when it may
// try now.
func (t *authThrottle) wait(src string, now time.Time) time.Duration {
	l := t.limiter(src, now, false)
	if l == nil {
		return 0
	}
	tokens := l.TokensAt(now)
	if tokens >= 1 {
		return 0
	}
	return time.Duration((1 - tokens) * float64(authFailEvery))
}

func (t *authThrottle) failed(src string, now time.Time) { t.limiter(src, now, true).AllowN(now, 1) }

// sourceOf is the peer's address without its port; behind a reverse proxy
// that is the proxy's (docs/operations.md, "API tokens").
func sourceOf(r *http.Request) string {
	if host, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		return host
	}
	return r.RemoteAddr
}

// authError is a refused credential: its status, what the caller is told,
// and the metric's result.
type authError struct {
	code   int
	msg    string
	result string
}

func (e *authError) Error() string { return e.msg }

// authenticate proves who r comes from: a per-user token, or the shared
// api_token acting as ServiceActor. A store failure is returned as such:
// nobody is refused because the store is away.
func (s *Server) authenticate(r *http.Request) (Identity, error) {
	got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok || got == "" {
		return Identity{}, &authError{http.StatusUnauthorized, "missing API token: send Authorization: Bearer <token> (hikyaku token create)", authMissing}
	}
	if want, set := s.Engine.Policies().Config().Global.APIToken.Reveal(); set && equal(got, want) {
		return Identity{User: ServiceActor}, nil
	}
	id, secret, err := access.ParseToken(got)
	if err != nil {
		return Identity{}, &authError{http.StatusUnauthorized, "wrong API token", authBad}
	}
	tok, err := s.Engine.Store().Token(r.Context(), id)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return Identity{}, &authError{http.StatusUnauthorized, "wrong API token", authBad}
	case err != nil:
		return Identity{}, fmt.Errorf("router: looking up API token %s: %w", id, err)
	case !access.SecretMatches(secret, tok.Hash):
		return Identity{}, &authError{http.StatusUnauthorized, "wrong API token", authBad}
	case tok.Revoked():
		return Identity{}, &authError{http.StatusUnauthorized, "API token " + id + " was revoked", authRevoked}
	case s.Engine.Policies().Config().User(tok.User) == nil:
		return Identity{}, &authError{http.StatusUnauthorized, fmt.Sprintf("API token %s belongs to %q, whom the configuration no longer has", id, tok.User), authNoUser}
	}
	return Identity{User: tok.User, TokenID: id}, nil
}

// guard authenticates r, throttling sources that fail too often; it
// answers the refusal itself and returns false, or returns r carrying the
// identity.
func (s *Server) guard(w http.ResponseWriter, r *http.Request) (*http.Request, bool) {
	src, now := sourceOf(r), s.Engine.now()
	if wait := s.throttle.wait(src, now); wait > 0 {
		s.Engine.metrics.authFailures.WithLabelValues(authThrottled).Inc()
		secs := int(math.Ceil(wait.Seconds()))
		w.Header().Set("Retry-After", strconv.Itoa(secs))
		http.Error(w, fmt.Sprintf("too many failed authentications from %s; retry in %ds", src, secs), http.StatusTooManyRequests)
		return nil, false
	}
	id, err := s.authenticate(r)
	var ae *authError
	switch {
	case errors.As(err, &ae):
		s.throttle.failed(src, now)
		s.Engine.metrics.authFailures.WithLabelValues(ae.result).Inc()
		s.Engine.log.LogAttrs(r.Context(), slog.LevelWarn, "API request refused for its credential",
			slog.String("source", src), slog.String("path", r.URL.Path), slog.String("result", ae.result))
		w.Header().Set("WWW-Authenticate", `Bearer realm="hikyaku"`)
		http.Error(w, ae.msg, ae.code)
		return nil, false
	case err != nil:
		s.Engine.log.Error("API authentication failed: the store did not answer", "err", err)
		w.Header().Set("Retry-After", "1")
		http.Error(w, "store unavailable; retry", http.StatusServiceUnavailable)
		return nil, false
	}
	if _, ok := r.URL.Query()["by"]; ok {
		http.Error(w, "?by= is gone: the actor is the API token's user ("+id.User+"); give each person a token of their own (hikyaku token create --user U)", http.StatusBadRequest)
		return nil, false
	}
	return r.WithContext(withIdentity(r.Context(), id)), true
}

// requestActor is the name the request's identity acts under.
func requestActor(r *http.Request) string {
	id, _ := IdentityOf(r.Context())
	return id.User
}
