// Package policies answers "who is on call at T" and "who is paged when":
// rotations, schedules, routes and escalation plans as pure logic, with no I/O.
package policies

import (
	"time"

	"github.com/hikyaku/hikyaku/config"
)

// Shift is User on call from Start up to (not including) End.
type Shift struct {
	User     string    `json:"user"`
	Start    time.Time `json:"start"`
	End      time.Time `json:"end"`
	Rotation string    `json:"rotation"`           // the rotation (layer) that put them there
	Override bool      `json:"override,omitempty"` // an override, not the rotation's order
}

// Set is the compiled on-call model of one config. It is immutable and safe
// for concurrent use; a reload compiles a new Set.
type Set struct {
	cfg *config.Config
}

// Config is the configuration the Set was compiled from.
func (s *Set) Config() *config.Config { return s.cfg }
