package access

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/hikyaku/hikyaku/catalog"
	"github.com/hikyaku/hikyaku/config"
)

// FlowCookie holds one sign-in's state, nonce and PKCE verifier between
// the redirect to the provider and its redirect back.
const FlowCookie = "hikyaku_oidc"

// flowTTL is how long a person has to sign in at the provider.
const flowTTL = 10 * time.Minute

// oidcClient is the provider, discovered on first success: discovery is
// retried at each sign-in until it works, so a provider down when hikyaku
// starts is no reason to stop paging.
type oidcClient struct {
	cfg      *config.OIDC
	secret   string
	redirect string
	ctx      context.Context // carries the HTTP client, for discovery and the key set's later fetches
	now      func() time.Time

	mu       sync.Mutex
	oauth    *oauth2.Config
	verifier *oidc.IDTokenVerifier
}

func newOIDCClient(cfg *config.OIDC, secret, redirect string, client *http.Client, now func() time.Time) *oidcClient {
	return &oidcClient{cfg: cfg, secret: secret, redirect: redirect, now: now,
		ctx: oidc.ClientContext(context.Background(), client)}
}

// discovered is the provider's OAuth2 endpoints and its ID token verifier.
type discovered struct {
	oauth    *oauth2.Config
	verifier *oidc.IDTokenVerifier
}

func (c *oidcClient) get() (discovered, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.oauth != nil {
		return discovered{c.oauth, c.verifier}, nil
	}
	// The key set go-oidc makes keeps this context for its later fetches
	// (a key rotation), so it is never one that ends.
	p, err := oidc.NewProvider(c.ctx, c.cfg.Issuer)
	if err != nil {
		return discovered{}, fmt.Errorf("discovering %s: %w", c.cfg.Issuer, err)
	}
	c.oauth = &oauth2.Config{ClientID: c.cfg.ClientID, ClientSecret: c.secret, Endpoint: p.Endpoint(),
		RedirectURL: c.redirect, Scopes: c.cfg.Scopes}
	c.verifier = p.Verifier(&oidc.Config{ClientID: c.cfg.ClientID, Now: c.now})
	return discovered{c.oauth, c.verifier}, nil
}

// flow is what the flow cookie carries.
type flow struct {
	State, Nonce, Verifier string
	Expires                time.Time
}

func (s signer) encodeFlow(f flow) string {
	return s.sign(purposeFlow, []byte(strings.Join([]string{f.State, f.Nonce, f.Verifier, strconv.FormatInt(f.Expires.Unix(), 10)}, "|")))
}

func (s signer) parseFlow(value string, now time.Time) (flow, error) {
	payload, err := s.open(purposeFlow, value)
	if err != nil {
		return flow{}, err
	}
	f := strings.Split(string(payload), "|")
	if len(f) != 4 || f[0] == "" || f[1] == "" || f[2] == "" {
		return flow{}, ErrBadSession
	}
	exp, err := strconv.ParseInt(f[3], 10, 64)
	if err != nil {
		return flow{}, ErrBadSession
	}
	fl := flow{State: f[0], Nonce: f[1], Verifier: f[2], Expires: time.Unix(exp, 0)}
	if !now.Before(fl.Expires) {
		return flow{}, ErrExpiredSession
	}
	return fl, nil
}

// StartSignIn sends the browser to the provider. The state (against a
// forged callback that would sign the person in as someone else), the
// nonce (against a replayed ID token) and the PKCE verifier (against a
// stolen code) are kept in a signed cookie only this browser holds.
func (a *Auth) StartSignIn(w http.ResponseWriter, r *http.Request) {
	lang := a.lang("")
	if a.oidc == nil {
		a.page(w, http.StatusNotFound, lang, catalog.Text(lang, "console.no_oidc"), false)
		return
	}
	d, err := a.oidc.get()
	if err != nil {
		a.log.Error("sign-in: the OpenID provider cannot be reached", "issuer", a.oidc.cfg.Issuer, "err", err)
		a.metrics.count(MethodOIDC, "unavailable")
		a.page(w, http.StatusServiceUnavailable, lang, catalog.Text(lang, "console.provider_down"), true)
		return
	}
	now := a.now()
	f := flow{State: newID(), Nonce: newID(), Verifier: oauth2.GenerateVerifier(), Expires: now.Add(flowTTL)}
	a.cookies.set(w, r, FlowCookie, a.signer.encodeFlow(f), now, f.Expires)
	http.Redirect(w, r, d.oauth.AuthCodeURL(f.State, oidc.Nonce(f.Nonce), oauth2.S256ChallengeOption(f.Verifier)), http.StatusFound)
}

// Reasons a callback is refused, for the audit line.
var (
	errFlow        = errors.New("no sign-in in progress in this browser, or it expired")
	errState       = errors.New("state does not match this browser's sign-in")
	errNonce       = errors.New("ID token's nonce does not match this browser's sign-in")
	errNoIDToken   = errors.New("the provider's token response has no id_token")
	errUnverified  = errors.New("the provider does not say the email is verified (email_verified)")
	errNoEmailClam = errors.New("the ID token has no email claim: is the email scope granted?")
)

// Callback finishes a sign-in: the provider's code is exchanged with the
// PKCE verifier, the ID token is verified (signature by the provider's
// published keys, issuer, audience, expiry, nonce), and its verified email
// is mapped to a configured user. Every refusal is a page saying why and
// an audit line.
func (a *Auth) Callback(w http.ResponseWriter, r *http.Request) {
	lang := a.lang("")
	refuse := func(code int, err error, text string) {
		a.audit(r, "sign_in", MethodOIDC, "", "refused", err)
		a.page(w, code, lang, text, true)
	}
	if a.oidc == nil {
		a.page(w, http.StatusNotFound, lang, catalog.Text(lang, "console.no_oidc"), false)
		return
	}
	c, err := r.Cookie(FlowCookie)
	if err != nil {
		refuse(http.StatusBadRequest, errFlow, catalog.Text(lang, "console.refused_flow"))
		return
	}
	// One use: whatever happens next, this state and nonce are spent.
	a.cookies.clear(w, r, FlowCookie)
	f, err := a.signer.parseFlow(c.Value, a.now())
	if err != nil {
		refuse(http.StatusBadRequest, fmt.Errorf("%w: %v", errFlow, err), catalog.Text(lang, "console.refused_flow"))
		return
	}
	q := r.URL.Query()
	if subtle.ConstantTimeCompare([]byte(q.Get("state")), []byte(f.State)) != 1 {
		refuse(http.StatusBadRequest, errState, catalog.Text(lang, "console.refused_flow"))
		return
	}
	if e := q.Get("error"); e != "" {
		refuse(http.StatusForbidden, fmt.Errorf("the provider answered %s: %s", e, q.Get("error_description")),
			catalog.Text(lang, "console.refused_provider", e))
		return
	}
	d, err := a.oidc.get()
	if err != nil {
		a.log.Error("sign-in: the OpenID provider cannot be reached", "issuer", a.oidc.cfg.Issuer, "err", err)
		a.metrics.count(MethodOIDC, "unavailable")
		a.page(w, http.StatusServiceUnavailable, lang, catalog.Text(lang, "console.provider_down"), true)
		return
	}
	tok, err := d.oauth.Exchange(a.oidc.ctx, q.Get("code"), oauth2.VerifierOption(f.Verifier))
	if err != nil {
		refuse(http.StatusBadGateway, fmt.Errorf("exchanging the code: %w", err), catalog.Text(lang, "console.refused_token", "code exchange"))
		return
	}
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		refuse(http.StatusBadGateway, errNoIDToken, catalog.Text(lang, "console.refused_token", "no id_token"))
		return
	}
	idt, err := d.verifier.Verify(r.Context(), raw)
	if err != nil {
		var expired *oidc.TokenExpiredError
		why := "signature, issuer or audience"
		if errors.As(err, &expired) {
			why = "expired"
		}
		refuse(http.StatusForbidden, fmt.Errorf("ID token refused: %w", err), catalog.Text(lang, "console.refused_token", why))
		return
	}
	if subtle.ConstantTimeCompare([]byte(idt.Nonce), []byte(f.Nonce)) != 1 {
		refuse(http.StatusForbidden, errNonce, catalog.Text(lang, "console.refused_token", "nonce"))
		return
	}
	email, verified, err := emailClaims(idt)
	switch {
	case err != nil:
		refuse(http.StatusForbidden, err, catalog.Text(lang, "console.refused_token", "claims"))
		return
	case email == "":
		refuse(http.StatusForbidden, errNoEmailClam, catalog.Text(lang, "console.refused_token", "email"))
		return
	case !verified:
		refuse(http.StatusForbidden, errUnverified, catalog.Text(lang, "console.refused_unverified", email))
		return
	}
	u := a.config().UserByEmail(email)
	if u == nil {
		a.log.Warn("sign-in by an email no configured user has", "email", email, "subject", idt.Subject, "source", r.RemoteAddr)
		refuse(http.StatusForbidden, errUnknownEmail, catalog.Text(lang, "console.refused_unknown", email))
		return
	}
	a.startSession(w, r, u.ID, MethodOIDC)
	a.audit(r, "sign_in", MethodOIDC, u.ID, "done", nil)
	http.Redirect(w, r, a.Path("/"), http.StatusSeeOther)
}

// emailClaims reads email and email_verified. Some providers (Amazon
// Cognito among them) send email_verified as the string "true": both are
// taken, anything else is not verified.
func emailClaims(idt *oidc.IDToken) (string, bool, error) {
	var c struct {
		Email    string          `json:"email"`
		Verified json.RawMessage `json:"email_verified"`
	}
	if err := idt.Claims(&c); err != nil {
		return "", false, fmt.Errorf("reading the ID token's claims: %w", err)
	}
	v := strings.TrimSpace(string(c.Verified))
	return c.Email, v == "true" || v == `"true"`, nil
}
