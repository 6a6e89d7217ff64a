package access

import (
	"crypto/subtle"
	"encoding/base64"
	"net/http"

	"github.com/hikyaku/hikyaku/catalog"
)

// CSRFField is the form field, and CSRFHeader the header, that carry the
// CSRF token of a state-changing request.
const (
	CSRFField  = "csrf_token"
	CSRFHeader = "X-CSRF-Token"
)

// CSRFToken is the token the console's forms carry for session ss: an
// HMAC of the session's id, so it needs no storage, differs for every
// session, and one session's token is worthless in another.
func (a *Auth) CSRFToken(ss Session) string {
	return base64.RawURLEncoding.EncodeToString(a.signer.mac(purposeCSRF, []byte(ss.ID)))
}

// CSRF refuses with 403 a request that may change state (anything but GET,
// HEAD, OPTIONS and TRACE) unless it carries the token of the session it
// is signed in with. It must run inside Identify: a request without a
// session has no token to match and is refused too. SameSite=Lax already
// keeps other sites' POSTs from carrying the cookie; this also covers
// browsers that ignore SameSite and same-site attackers (a sibling
// subdomain).
func (a *Auth) CSRF(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.Method {
		case http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodTrace:
			next.ServeHTTP(w, r)
			return
		}
		id, ok := FromContext(r.Context())
		if !ok {
			a.refuseCSRF(w, r, "", "not signed in")
			return
		}
		got := r.Header.Get(CSRFHeader)
		if got == "" {
			// A bounded body: the console's forms are a few fields.
			r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
			got = r.PostFormValue(CSRFField)
		}
		want := a.CSRFToken(id.Session)
		if got == "" || subtle.ConstantTimeCompare([]byte(got), []byte(want)) != 1 {
			a.refuseCSRF(w, r, id.User, "missing or wrong CSRF token")
			return
		}
		next.ServeHTTP(w, r)
	})
}

func (a *Auth) refuseCSRF(w http.ResponseWriter, r *http.Request, user, why string) {
	a.log.Warn("state-changing request refused", "path", r.URL.Path, "method", r.Method, "user", user,
		"source", r.RemoteAddr, "reason", why)
	lang := a.lang(user)
	a.page(w, http.StatusForbidden, lang, catalog.Text(lang, "console.refused_csrf", why), false)
}
