package policies

import (
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/hikyaku/hikyaku/config"
)

// Page is one notification hikyaku sends if nobody acks first: a user on one
// channel, or a step's chat channel.
type Page struct {
	At    time.Time `json:"at"`
	Step  int       `json:"step"`  // 0-based step index
	Round int       `json:"round"` // 0-based repeat round
	User  string    `json:"user,omitempty"`
	// Channel is how User is reached, from their notification rules.
	Channel config.Channel `json:"channel,omitempty"`
	// ChatChannel is a chat channel the step targets.
	ChatChannel string `json:"chat_channel,omitempty"`
	// Fallback is set when User was paged as the step's fallback because the
	// targets had nobody on call.
	Fallback bool `json:"fallback,omitempty"`
}

// StepFiring is one step of an escalation policy firing.
type StepFiring struct {
	At           time.Time `json:"at"`
	Step         int       `json:"step"`
	Round        int       `json:"round"`
	Users        []string  `json:"users"`
	ChatChannels []string  `json:"chat_channels,omitempty"`
	// Empty means nobody was on call and the step has no fallback: the firing
	// is recorded and the next step fires at once instead of waiting.
	Empty bool `json:"empty,omitempty"`
	// Fallback is the user paged because the targets had nobody on call.
	Fallback string `json:"fallback,omitempty"`
}

// Plan is what an escalation policy does from start if nobody acks.
type Plan struct {
	Policy string       `json:"policy"`
	Steps  []StepFiring `json:"steps"`
	Pages  []Page       `json:"pages"`
	// Exhausted is when the last step of the last round has waited out its
	// escalate_after and the policy gives up, if that is within the horizon.
	Exhausted time.Time `json:"exhausted,omitzero"`
}

// StepTargets is who step of policy p pages at at. A step whose targets have
// nobody on call pages its fallback; without one it is Empty. The escalation
// engine calls this on every step, so it stays pure and reads no clock.
func (s *Set) StepTargets(p *config.Policy, step int, at time.Time) StepFiring {
	f := StepFiring{At: at, Step: step, Users: []string{}}
	if p == nil || step < 0 || step >= len(p.Steps) {
		f.Empty = true
		return f
	}
	st := p.Steps[step]
	r := s.Resolve(st.Targets, at)
	if len(r.Users) > 0 {
		f.Users = r.Users
	}
	f.ChatChannels = r.ChatChannels
	if len(f.Users) == 0 && len(f.ChatChannels) == 0 {
		if st.Fallback == "" {
			f.Empty = true
		} else {
			f.Users, f.Fallback = []string{st.Fallback}, st.Fallback
		}
	}
	return f
}

// NotifyPages expands user's notification rules for a page at at: one Page
// per rule and channel, each at at plus the rule's delay. An unknown user
// yields none, so a reload that removed someone cannot crash a running incident.
func (s *Set) NotifyPages(user string, at time.Time) []Page {
	u := s.cfg.User(user)
	if u == nil {
		return nil
	}
	var pages []Page
	for _, rule := range u.Notify {
		for _, ch := range rule.Channels {
			pages = append(pages, Page{At: at.Add(rule.After.D()), User: user, Channel: ch})
		}
	}
	return pages
}

// Plan simulates policy from start for horizon, as if nobody ever acks.
// Step 0 fires at start; each later step fires the previous step's
// escalate_after later, or at once after an Empty step; after the last step
// the policy runs Repeat more rounds. Steps and pages at or after
// start+horizon are left out. Every round visits each step once, so a
// policy whose steps are all empty still ends.
func (s *Set) Plan(policy string, start time.Time, horizon time.Duration) (Plan, error) {
	p := s.cfg.Policy(policy)
	if p == nil {
		return Plan{}, fmt.Errorf("plan: unknown escalation policy %q", policy)
	}
	if horizon <= 0 {
		return Plan{}, errors.New("plan: horizon must be positive")
	}
	end := start.Add(horizon)
	plan := Plan{Policy: p.ID, Steps: []StepFiring{}, Pages: []Page{}}
	at := start
	for round := 0; round <= p.Repeat; round++ {
		for i, st := range p.Steps {
			if !at.Before(end) {
				return plan.sorted(), nil
			}
			f := s.StepTargets(p, i, at)
			f.Round = round
			plan.Steps = append(plan.Steps, f)
			plan.Pages = append(plan.Pages, s.stepPages(f, end)...)
			if !f.Empty {
				at = at.Add(st.EscalateAfter.D())
			}
		}
	}
	if at.Before(end) {
		plan.Exhausted = at
	}
	return plan.sorted(), nil
}

// stepPages are the pages of one firing that fall before end.
func (s *Set) stepPages(f StepFiring, end time.Time) []Page {
	var pages []Page
	for _, u := range f.Users {
		for _, pg := range s.NotifyPages(u, f.At) {
			if pg.At.Before(end) {
				pg.Step, pg.Round, pg.Fallback = f.Step, f.Round, f.Fallback != ""
				pages = append(pages, pg)
			}
		}
	}
	for _, ch := range f.ChatChannels {
		pages = append(pages, Page{At: f.At, Step: f.Step, Round: f.Round, ChatChannel: ch})
	}
	return pages
}

// sorted orders pages by time; the sort is stable so pages due at the same
// instant keep step, user and rule order, which is the order they are sent.
func (p Plan) sorted() Plan {
	slices.SortStableFunc(p.Pages, func(a, b Page) int { return a.At.Compare(b.At) })
	return p
}
