package store

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
)

// CalendarToken is the secret part of a calendar feed's URL as stored: its
// public id, whose feed it opens and which, and the hash of its secret,
// never the secret (access/calendar.go makes them). A calendar app cannot
// send a header, so the URL is the credential; a copy of the store must not
// be one.
type CalendarToken struct {
	ID   string `json:"id"`
	User string `json:"user"`
	// Feed is "me" (the person's own shifts) or "DEPARTMENT/ROTATION".
	Feed      string    `json:"feed"`
	Hash      []byte    `json:"hash"`
	CreatedAt time.Time `json:"created_at"`
}

// CalendarTokens keeps the calendar feeds' tokens. A person has at most one
// live token per feed: making a new link replaces the old one, so a leaked
// link is fixed by making a new one. Revoked tokens are deleted, not
// kept: regenerating a link as often as one likes must not grow the store.
// Every replica sees a token, and its revocation, as soon as the write
// returns.
type CalendarTokens interface {
	// IssueCalendarToken stores t and deletes the other tokens of t.User
	// for t.Feed, in one write. ErrTokenExists when t.ID is taken.
	IssueCalendarToken(ctx context.Context, t CalendarToken) error
	// CalendarToken is the token with id; ErrNotFound when there is none
	// (never made, replaced or revoked: they are not told apart).
	CalendarToken(ctx context.Context, id string) (CalendarToken, error)
	// CalendarTokensOf is user's tokens, oldest first.
	CalendarTokensOf(ctx context.Context, user string) ([]CalendarToken, error)
	// RevokeCalendarTokens deletes user's token for feed, or every one of
	// user's when feed is "", and says how many it deleted.
	RevokeCalendarTokens(ctx context.Context, user, feed string) (int, error)
}

func checkCalendarToken(t CalendarToken) error {
	switch {
	case t.ID == "":
		return fmt.Errorf("store: issue calendar token: no id")
	case t.User == "":
		return fmt.Errorf("store: issue calendar token %s: no user", t.ID)
	case t.Feed == "":
		return fmt.Errorf("store: issue calendar token %s: no feed", t.ID)
	case len(t.Hash) == 0:
		return fmt.Errorf("store: issue calendar token %s: no hash", t.ID)
	}
	return nil
}

// revokes says whether a revocation of user's feed (every feed when
// feed is "") takes t.
func revokes(t CalendarToken, user, feed string) bool {
	return t.User == user && (feed == "" || t.Feed == feed)
}

func sortCalendarTokens(ts []CalendarToken) {
	slices.SortFunc(ts, func(a, b CalendarToken) int {
		if c := a.CreatedAt.Compare(b.CreatedAt); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
}
