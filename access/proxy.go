package access

import (
	"errors"
	"net"
	"net/http"
	"net/netip"

	"github.com/hikyaku/hikyaku/catalog"
)

// ProxyHeaders are the headers an authenticating proxy puts the signed-in
// email in, in the order they are read: oauth2-proxy's reverse-proxy mode
// (--pass-user-headers) and its auth-request mode (--set-xauthrequest,
// nginx auth_request).
var ProxyHeaders = []string{"X-Forwarded-Email", "X-Auth-Request-Email"}

// trustedProxy believes the headers only from its sources.
type trustedProxy struct {
	sources []netip.Prefix
}

// trusts says whether the peer (not X-Forwarded-For, which anyone can
// write) is one of the proxy's addresses.
func (p *trustedProxy) trusts(remoteAddr string) bool {
	host, _, err := net.SplitHostPort(remoteAddr)
	if err != nil {
		host = remoteAddr
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		return false
	}
	a = a.Unmap()
	for _, pfx := range p.sources {
		if pfx.Contains(a) {
			return true
		}
	}
	return false
}

// proxyEmail is the first proxy header the request has, and its name.
func proxyEmail(r *http.Request) (email, header string) {
	for _, h := range ProxyHeaders {
		if v := r.Header.Get(h); v != "" {
			return v, h
		}
	}
	return "", ""
}

var errUnknownEmail = errors.New("no configured user has this email (users[].contacts.email)")

// proxyIdentity is the identity the trusted proxy vouches for. From any
// other address the header is ignored and logged: it is someone trying to
// sign in as whoever they like, or a proxy missing from sources. An email
// no user has is refused with a page (handled is true: the answer is
// written). The proxy authenticates every request, but the console still
// needs a session for its CSRF tokens: one is started for the proxy's user
// when the request has none of theirs.
func (a *Auth) proxyIdentity(w http.ResponseWriter, r *http.Request) (id *Identity, handled bool) {
	email, header := proxyEmail(r)
	if header == "" {
		return nil, false
	}
	if !a.proxy.trusts(r.RemoteAddr) {
		a.log.Warn("sign-in header from an address not in sign_in.trusted_proxy.sources ignored",
			"header", header, "source", r.RemoteAddr, "path", r.URL.Path)
		return nil, false
	}
	u := a.config().UserByEmail(email)
	if u == nil {
		a.audit(r, "sign_in", MethodProxy, "", "refused", errUnknownEmail)
		a.log.Warn("trusted proxy's email is no configured user's", "email", email, "source", r.RemoteAddr)
		lang := a.lang("")
		a.page(w, http.StatusForbidden, lang, catalog.Text(lang, "console.refused_unknown", email), false)
		return nil, true
	}
	if ss, ok := a.session(r); ok && ss.User == u.ID {
		return &Identity{User: ss.User, Method: ss.Method, Session: ss}, false
	}
	ss := a.startSession(w, r, u.ID, MethodProxy)
	a.audit(r, "sign_in", MethodProxy, u.ID, "done", nil)
	return &Identity{User: u.ID, Method: MethodProxy, Session: ss}, false
}
