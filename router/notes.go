package router

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/hikyaku/hikyaku/access"
	"github.com/hikyaku/hikyaku/channels"
	"github.com/hikyaku/hikyaku/store"
)

// ErrBadNote is a note or severity change refused for its content.
var ErrBadNote = errors.New("bad note")

// Limits of what people write: a note is read on a phone and printed in
// reports, a field is one line of a report.
const (
	maxNoteText  = 4000
	maxNoteField = 1000
)

// severityRe is what a severity may be: a label value such as critical or P2.
var severityRe = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,31}$`)

// Note is one entry of an incident's decision log. Fields set the report
// fields they name (the latest value wins); "" leaves a field as it is.
type Note struct {
	Incident int64
	Text     string
	Decision bool
	Fields   NoteFields
	Actor    string
	Via      string
	// Dedup and Replayed name an inbound request (a Slack message, a
	// mail), as Action's do: a provider's retry adds the note once.
	Dedup    string
	Replayed bool
}

// NoteFields are the report fields a note may set.
type NoteFields struct {
	Impact            string `json:"impact,omitempty"`
	Cause             string `json:"cause,omitempty"`
	ActionProvisional string `json:"action_provisional,omitempty"`
	ActionPermanent   string `json:"action_permanent,omitempty"`
	Prevention        string `json:"prevention,omitempty"`
}

// pairs lists the fields as timeline detail keys and values, in report order.
func (f NoteFields) pairs() [][2]string {
	return [][2]string{{"impact", f.Impact}, {"cause", f.Cause}, {"action_provisional", f.ActionProvisional},
		{"action_permanent", f.ActionPermanent}, {"prevention", f.Prevention}}
}

// check refuses what a note must not hold; it names the first problem.
func (n *Note) check() error {
	if strings.TrimSpace(n.Text) == "" {
		return fmt.Errorf("%w: the note has no text", ErrBadNote)
	}
	if err := checkText("text", n.Text, maxNoteText, true); err != nil {
		return err
	}
	for _, p := range n.Fields.pairs() {
		if err := checkText(p[0], p[1], maxNoteField, false); err != nil {
			return err
		}
	}
	return nil
}

// checkText refuses invalid UTF-8, control characters (line breaks only
// where lines are allowed) and text longer than limit characters.
func checkText(name, s string, limit int, lines bool) error {
	if !utf8.ValidString(s) {
		return fmt.Errorf("%w: %s is not valid UTF-8", ErrBadNote, name)
	}
	if n := utf8.RuneCountInString(s); n > limit {
		return fmt.Errorf("%w: %s has %d characters, at most %d", ErrBadNote, name, n, limit)
	}
	for _, r := range s {
		if unicode.IsControl(r) && !(lines && (r == '\n' || r == '\r' || r == '\t')) {
			return fmt.Errorf("%w: %s holds the control character %U", ErrBadNote, name, r)
		}
	}
	return nil
}

// AddNote records a note on the incident's timeline and the report fields
// it sets in the incident. A resolved incident takes notes too: causes are
// often found after.
func (e *Engine) AddNote(ctx context.Context, n Note) (inc *store.Incident, err error) {
	defer func() {
		e.audit(ctx, "note", runResult(err == nil, err), err, slog.Int64("incident", n.Incident),
			slog.String("actor", n.Actor), slog.String("channel", n.Via), slog.Bool("decision", n.Decision))
	}()
	if err := n.check(); err != nil {
		return nil, err
	}
	if err := e.authorizeOn(ctx, Action{Incident: n.Incident, Verb: "note", User: n.Actor, Via: n.Via}, access.Run); err != nil {
		return nil, err
	}
	inc, _, err = e.update(ctx, n.Incident, func(cur *store.Incident) (*store.Change, error) {
		if skip, err := handledBefore(cur, n.Dedup, n.Replayed); skip || err != nil {
			return nil, err
		}
		now := e.now()
		inc := *cur
		rep := reportOf(cur)
		kv := []string{"text", n.Text, "decision", boolString(n.Decision), "via", n.Via}
		for _, p := range n.Fields.pairs() {
			if p[1] == "" {
				continue
			}
			kv = append(kv, p[0], p[1])
			setField(&rep, p[0], p[1])
		}
		inc.Report, inc.UpdatedAt = &rep, now
		ch := &store.Change{Incident: &inc, Events: []store.Event{event(now, "note", n.Actor, kv...)}}
		markHandled(ch, cur, n.Dedup)
		return ch, nil
	})
	return inc, err
}

// reportOf is a copy of inc's report fields, to change.
func reportOf(inc *store.Incident) store.ReportFields {
	if inc.Report == nil {
		return store.ReportFields{}
	}
	return *inc.Report
}

func setField(r *store.ReportFields, name, v string) {
	switch name {
	case "impact":
		r.Impact = v
	case "cause":
		r.Cause = v
	case "action_provisional":
		r.ActionProvisional = v
	case "action_permanent":
		r.ActionPermanent = v
	case "prevention":
		r.Prevention = v
	}
}

// reportInfo is what messages say of the report fields; nil while nobody set any.
func reportInfo(inc *store.Incident) *channels.IncidentReport {
	r := inc.Report
	if r == nil {
		return nil
	}
	return &channels.IncidentReport{CurrentSeverity: r.CurrentSeverity, SeverityReason: r.SeverityReason, Impact: r.Impact,
		Cause: r.Cause, ActionProvisional: r.ActionProvisional, ActionPermanent: r.ActionPermanent, Prevention: r.Prevention}
}
