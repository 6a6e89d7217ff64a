package store

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Override is a cover made at run time, without a configuration edit: By
// is on call instead of For wherever For's final shifts fall in
// [Start, End), in Rotation only when it is set (a rotation or schedule
// id), else in every one. CreatedBy and CreatedAt say who made it, when.
type Override struct {
	ID        string    `json:"id"`
	For       string    `json:"for"`
	By        string    `json:"by"`
	Rotation  string    `json:"rotation,omitempty"`
	Start     time.Time `json:"start"`
	End       time.Time `json:"end"`
	Reason    string    `json:"reason,omitempty"`
	CreatedBy string    `json:"created_by"`
	CreatedAt time.Time `json:"created_at"`
}

// Mute is a maintenance window started at run time: a route's or a
// department's incidents page nobody from Start until End. Ending it early
// sets End to that instant and says who ended it.
type Mute struct {
	ID         string    `json:"id"`
	Route      string    `json:"route,omitempty"`
	Department string    `json:"department,omitempty"`
	Start      time.Time `json:"start"`
	End        time.Time `json:"end"`
	Reason     string    `json:"reason"`
	CreatedBy  string    `json:"created_by"`
	CreatedAt  time.Time `json:"created_at"`
	EndedBy    string    `json:"ended_by,omitempty"`
	EndedAt    time.Time `json:"ended_at,omitzero"`
}

// Overrides keeps the run-time covers and mutes. They are few (a handful
// a week), and every replica reads them whole when it decides who is on
// call or whether a route is muted, so a write is seen by every replica's
// next decision.
type Overrides interface {
	// AddOverride stores o; ErrOverrideExists when its ID is taken.
	AddOverride(ctx context.Context, o Override) error
	// ListOverrides is every stored override, oldest first (CreatedAt, then ID).
	ListOverrides(ctx context.Context) ([]Override, error)
	// RemoveOverride deletes the override with id and returns it;
	// ErrNotFound when there is none.
	RemoveOverride(ctx context.Context, id string) (Override, error)
	// AddMute stores m; ErrOverrideExists when its ID is taken.
	AddMute(ctx context.Context, m Mute) error
	// ListMutes is every stored mute, ended ones included, oldest first.
	ListMutes(ctx context.Context) ([]Mute, error)
	// EndMute ends the mute with id at at, by by, and returns it: End
	// becomes at unless it was earlier already, and a mute ended (or run
	// out) before keeps its first end. ErrNotFound when there is none.
	EndMute(ctx context.Context, id, by string, at time.Time) (Mute, error)
	// ListStored is ListOverrides and ListMutes in one read (one round
	// trip to Redis), for the decisions that need both.
	ListStored(ctx context.Context) ([]Override, []Mute, error)
	// DeleteEnded deletes the overrides and mutes that ended before cutoff,
	// and says how many it deleted.
	DeleteEnded(ctx context.Context, cutoff time.Time) (int, error)
}

// ErrOverrideExists is AddOverride or AddMute of an ID already stored.
var ErrOverrideExists = errors.New("store: an override or mute with this id exists")

func checkOverride(o Override) error {
	switch {
	case o.ID == "":
		return fmt.Errorf("store: add override: no id")
	case o.For == "" || o.By == "":
		return fmt.Errorf("store: add override %s: want both whose shift (for) and who covers it (by)", o.ID)
	case o.For == o.By:
		return fmt.Errorf("store: add override %s: %s cannot cover their own shift", o.ID, o.For)
	case !o.Start.Before(o.End):
		return fmt.Errorf("store: add override %s: it ends before it starts", o.ID)
	case o.CreatedBy == "" || o.CreatedAt.IsZero():
		return fmt.Errorf("store: add override %s: no creator or creation time", o.ID)
	}
	return nil
}

func checkMute(m Mute) error {
	switch {
	case m.ID == "":
		return fmt.Errorf("store: add mute: no id")
	case (m.Route == "") == (m.Department == ""):
		return fmt.Errorf("store: add mute %s: want a route or a department, one of them", m.ID)
	case !m.Start.Before(m.End):
		return fmt.Errorf("store: add mute %s: it ends before it starts", m.ID)
	case m.Reason == "":
		return fmt.Errorf("store: add mute %s: no reason", m.ID)
	case m.CreatedBy == "" || m.CreatedAt.IsZero():
		return fmt.Errorf("store: add mute %s: no creator or creation time", m.ID)
	case m.EndedBy != "" || !m.EndedAt.IsZero():
		return fmt.Errorf("store: add mute %s: it is ended already", m.ID)
	}
	return nil
}

// endMute is EndMute's change of m, and whether it changed anything.
func endMute(m *Mute, by string, at time.Time) bool {
	if !m.EndedAt.IsZero() || !at.Before(m.End) {
		return false
	}
	m.End, m.EndedBy, m.EndedAt = at, by, at
	if m.End.Before(m.Start) {
		m.End = m.Start // ended before it began: it never mutes
	}
	return true
}

// compareCreated orders oldest first, ties by id.
func compareCreated(at1, at2 time.Time, id1, id2 string) int {
	if c := at1.Compare(at2); c != 0 {
		return c
	}
	switch {
	case id1 < id2:
		return -1
	case id1 > id2:
		return 1
	}
	return 0
}
