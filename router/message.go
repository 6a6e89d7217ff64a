package router

import (
	"errors"
	"fmt"
	"strings"

	"github.com/hikyaku/hikyaku/channels"
	"github.com/hikyaku/hikyaku/channels/template"
	"github.com/hikyaku/hikyaku/config"
	"github.com/hikyaku/hikyaku/store"
)

// message builds the outbound message of one outbox entry: the address on
// its channel and a short text in the recipient's language.
func (e *Engine) message(inc *store.Incident, p *notifyPayload, key string) (*channels.Message, error) {
	cfg := e.Policies().Config()
	m := &channels.Message{IdempotencyKey: key, Ref: msgRef(key), Channel: p.Channel, Kind: channels.Kind(p.Kind),
		IncidentID: inc.ID, Data: inc.Message, Incident: e.incidentInfo(inc, p), Callback: callbackToken(inc, p, key)}
	loc := cfg.Global.Location
	switch {
	case p.User != "":
		u := cfg.User(p.User)
		if u == nil {
			return nil, channels.Permanent("", fmt.Errorf("user %q is no longer in the configuration", p.User))
		}
		m.UserID, m.Name, m.Language = u.ID, u.Name, u.Language
		loc = u.Location
		m.To = u.Contacts.Get(config.Channel(p.Channel))
		if m.Kind == channels.KindPage {
			// Signed for this person alone: pressing one acts as them, via link.
			m.Links = e.Links(inc, u.ID)
		}
	case p.ChatChannel != "":
		cc := cfg.ChatChannel(p.ChatChannel)
		if cc == nil {
			return nil, channels.Permanent("", fmt.Errorf("chat channel %q is no longer in the configuration", p.ChatChannel))
		}
		m.Name, m.Language, m.BodyTemplate = cc.Name, cc.Language, cc.Template
		if tok, ok := cc.BearerToken.Reveal(); ok {
			m.BearerToken = tok
		}
		m.To = cc.Slack
		if m.To == "" {
			m.To = cc.Webhook
		}
	}
	if m.To == "" {
		return nil, channels.Permanent("", fmt.Errorf("%s has no %s contact", who(p), p.Channel))
	}
	m.Incident.Roles = roleHolders(cfg, inc, m.Language)
	switch {
	case m.Kind != channels.KindPage && inc.Drill != nil:
		m.Incident.StakeholderReport = buildDrillReport(cfg, inc, m.Language)
	case m.Kind != channels.KindPage:
		m.Incident.StakeholderReport = buildReport(cfg, inc, p.Kind, p.Report, m.Language)
	}
	if loc != nil && !m.Incident.NextUpdate.IsZero() {
		m.Incident.NextUpdate = m.Incident.NextUpdate.In(loc) // "next update at 18:30" in the reader's zone
	}
	if h, ok := (*e.senders.Load())[m.Channel].(channels.AckHinter); ok && m.Kind == channels.KindPage {
		m.AckHint = h.AckHint(m)
	}
	var err error
	m.Subject, m.Text, err = e.templatesFor(cfg).Render(m)
	var fallback *template.FallbackError
	switch {
	case errors.As(err, &fallback):
		e.log.Warn("message template failed; the built-in text is sent instead", "incident", inc.ID, "channel", m.Channel, "err", err)
	case err != nil:
		// No text at all for this channel: another contact method may render.
		return nil, channels.Permanent("template", fmt.Errorf("render %s %s: %w", m.Channel, m.Kind, err))
	}
	return m, nil
}

// configTemplates are the templates of the configuration last rendered with:
// a reload brings a new *config.Config, so its files are parsed once, on first use.
type configTemplates struct {
	cfg *config.Config
	t   *template.Templates
}

func (e *Engine) templatesFor(cfg *config.Config) *template.Templates {
	if c := e.templates.Load(); c != nil && c.cfg == cfg {
		return c.t
	}
	t, err := template.Parse(cfg.Templates.Loaded)
	if err != nil {
		// Load parsed these very texts; should they fail now, pages still go out.
		t = template.Default()
	}
	e.templates.Store(&configTemplates{cfg: cfg, t: t})
	return t
}

// incidentInfo is what messages say about the incident beyond Alertmanager's data.
func (e *Engine) incidentInfo(inc *store.Incident, p *notifyPayload) channels.Incident {
	set := e.Policies() // one config for the whole message
	cfg := set.Config()
	info := channels.Incident{ID: inc.ID, Status: string(inc.Status), Severity: inc.Severity,
		Department: inc.Department, DepartmentID: inc.Department, Route: inc.Route, Policy: inc.Policy,
		CreatedAt: inc.CreatedAt, AckedBy: inc.AckedBy, Test: inc.Test != nil}
	if d := cfg.Department(inc.Department); d != nil {
		info.Department = d.Name
	}
	if p.Kind == "page" {
		info.Step = p.Step + 1
	}
	if p.Kind == "report" {
		if p.Report != nil {
			info.NextUpdate = p.Report.Next
		} else if every := e.reportPeriod(set, inc); every > 0 {
			info.NextUpdate = e.now().Add(every)
		}
	}
	if u := cfg.Global.ExternalURL; u != "" {
		info.URL = fmt.Sprintf("%s/api/v1/incidents/%d", strings.TrimRight(u, "/"), inc.ID)
	}
	info.Report = reportInfo(inc)
	if msg, err := DecodeMessage(inc.Message); err == nil {
		info.FiringAlerts, info.ResolvedAlerts = len(msg.Alerts.Firing()), len(msg.Alerts.Resolved())
	}
	return info
}
