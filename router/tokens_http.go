package router

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/hikyaku/hikyaku/access"
	"github.com/hikyaku/hikyaku/store"
)

// The per-user API tokens are made and revoked on the admin listener
// only, like reload: whoever reaches it (its address, its web config's
// basic auth) runs the daemon, and a token must never be mintable from
// the internet-facing listener.

// TokenView is a token as the admin API shows it: never its hash. Token
// (the value) is set once, in the answer that created it.
type TokenView struct {
	ID        string    `json:"id"`
	User      string    `json:"user"`
	Name      string    `json:"name,omitempty"`
	CreatedAt time.Time `json:"created_at"`
	RevokedAt time.Time `json:"revoked_at,omitzero"`
	Token     string    `json:"token,omitempty"`
}

func tokenView(t store.Token) TokenView {
	return TokenView{ID: t.ID, User: t.User, Name: t.Name, CreatedAt: t.CreatedAt, RevokedAt: t.RevokedAt}
}

// maxTokenRequest bounds a token request's body: a user id and a name.
const maxTokenRequest = 4 << 10

func (s *Server) tokenRoutes(mux *http.ServeMux) {
	mux.Handle("POST /api/v1/tokens", s.adminJSON(s.createToken))
	mux.Handle("GET /api/v1/tokens", s.adminJSON(s.listTokens))
	mux.Handle("POST /api/v1/tokens/{id}/revoke", s.adminJSON(s.revokeToken))
}

// adminJSON answers h's value as JSON, for the admin listener's own API,
// which its listener protects rather than a bearer token.
func (s *Server) adminJSON(h func(w http.ResponseWriter, r *http.Request) (any, error)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		v, err := h(w, r)
		if err != nil {
			http.Error(w, err.Error(), apiStatus(err))
			return
		}
		w.Header().Set("Content-Type", "application/json")
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		enc.Encode(v)
	})
}

func (s *Server) createToken(w http.ResponseWriter, r *http.Request) (any, error) {
	// A browser sends a cross-site form or text/plain post without asking
	// first, but never application/json: no web page can make a token.
	if ct, _, _ := strings.Cut(r.Header.Get("Content-Type"), ";"); strings.TrimSpace(ct) != "application/json" {
		return nil, &httpError{http.StatusUnsupportedMediaType, "send the request as Content-Type: application/json"}
	}
	var req struct {
		User string `json:"user"`
		Name string `json:"name"`
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxTokenRequest))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		return nil, &httpError{http.StatusBadRequest, "want {\"user\": \"ID\", \"name\": \"what it is for\"}: " + err.Error()}
	}
	if s.Engine.Policies().Config().User(req.User) == nil {
		err := &httpError{http.StatusBadRequest, fmt.Sprintf("no user %q in the configuration: a token acts as one configured user", req.User)}
		s.auditToken(r, "token_create", "", req.User, err)
		return nil, err
	}
	id, value, hash, err := access.NewToken()
	if err != nil {
		return nil, err
	}
	t := store.Token{ID: id, User: req.User, Name: req.Name, Hash: hash, CreatedAt: s.Engine.now()}
	err = s.Engine.Store().AddToken(r.Context(), t)
	s.auditToken(r, "token_create", id, req.User, err)
	if err != nil {
		return nil, fmt.Errorf("router: storing the new token: %w", err)
	}
	v := tokenView(t)
	v.Token = value
	return v, nil
}

func (s *Server) listTokens(_ http.ResponseWriter, r *http.Request) (any, error) {
	ts, err := s.Engine.Store().ListTokens(r.Context())
	if err != nil {
		return nil, err
	}
	out := make([]TokenView, len(ts))
	for i, t := range ts {
		out[i] = tokenView(t)
	}
	return out, nil
}

func (s *Server) revokeToken(_ http.ResponseWriter, r *http.Request) (any, error) {
	id := r.PathValue("id")
	if !access.ValidTokenID(id) {
		return nil, &httpError{http.StatusBadRequest, fmt.Sprintf("token id %q: want the 16 hex characters token list shows", id)}
	}
	t, err := s.Engine.Store().RevokeToken(r.Context(), id, s.Engine.now())
	if errors.Is(err, store.ErrNotFound) {
		err = &httpError{http.StatusNotFound, "no token " + id}
	}
	s.auditToken(r, "token_revoke", id, t.User, err)
	if err != nil {
		return nil, err
	}
	return tokenView(t), nil
}

// auditToken is the audit line of a token made or revoked; the actor is
// the admin listener's authenticated user, if it checks one.
func (s *Server) auditToken(r *http.Request, action, id, user string, err error) {
	result := auditDone
	var he *httpError
	switch {
	case errors.As(err, &he):
		result = auditRefused
	case err != nil:
		result = auditFailed
	}
	src, _ := auditSourceOf(r.Context())
	s.Engine.audit(r.Context(), action, result, err, slog.String("token", id), slog.String("user", user),
		slog.String("actor", src.User), slog.String("channel", "http"))
}
