package store

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Token is a per-user API token as stored: its public id, whose it is and
// the hash of its secret, never the secret (access/tokens.go makes them).
// A revoked token stays, so listing shows it and using it says "revoked".
type Token struct {
	ID        string    `json:"id"`
	User      string    `json:"user"`
	Name      string    `json:"name,omitempty"`
	Hash      []byte    `json:"hash"`
	CreatedAt time.Time `json:"created_at"`
	RevokedAt time.Time `json:"revoked_at,omitzero"`
}

// Revoked says whether the token was revoked.
func (t Token) Revoked() bool { return !t.RevokedAt.IsZero() }

// Tokens keeps the per-user API tokens. Every replica sees a token, and its
// revocation, as soon as the write returns.
type Tokens interface {
	// AddToken stores t; ErrTokenExists when its ID is taken.
	AddToken(ctx context.Context, t Token) error
	// Token is the token with id; ErrNotFound when there is none.
	Token(ctx context.Context, id string) (Token, error)
	// ListTokens is every token, revoked ones included, oldest first.
	ListTokens(ctx context.Context) ([]Token, error)
	// RevokeToken marks the token revoked at at and returns it; revoking it
	// again keeps the first time. ErrNotFound when there is none.
	RevokeToken(ctx context.Context, id string, at time.Time) (Token, error)
}

// ErrTokenExists is AddToken of an ID already stored.
var ErrTokenExists = errors.New("store: a token with this id exists")

func checkToken(t Token) error {
	switch {
	case t.ID == "":
		return fmt.Errorf("store: add token: no id")
	case t.User == "":
		return fmt.Errorf("store: add token %s: no user", t.ID)
	case len(t.Hash) == 0:
		return fmt.Errorf("store: add token %s: no hash", t.ID)
	case t.Revoked():
		return fmt.Errorf("store: add token %s: it is revoked already", t.ID)
	}
	return nil
}

// compareTokens orders oldest first, ties by id, as ListTokens promises.
func compareTokens(a, b Token) int {
	if c := a.CreatedAt.Compare(b.CreatedAt); c != 0 {
		return c
	}
	switch {
	case a.ID < b.ID:
		return -1
	case a.ID > b.ID:
		return 1
	}
	return 0
}
