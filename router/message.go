package router

import (
	"fmt"
	"strings"

	"github.com/hikyaku/hikyaku/channels"
	"github.com/hikyaku/hikyaku/config"
	"github.com/hikyaku/hikyaku/store"
)

// message builds the outbound message of one outbox entry: the address on
// its channel and a short text in the recipient's language.
func (e *Engine) message(inc *store.Incident, p *notifyPayload, key string) (*channels.Message, error) {
	cfg := e.Policies().Config()
	m := &channels.Message{IdempotencyKey: key, Channel: p.Channel, Kind: channels.Kind(p.Kind),
		IncidentID: inc.ID, Data: inc.Message, Incident: e.incidentInfo(inc, p), Callback: callbackToken(inc, p)}
	switch {
	case p.User != "":
		u := cfg.User(p.User)
		if u == nil {
			return nil, channels.Permanent("", fmt.Errorf("user %q is no longer in the configuration", p.User))
		}
		m.UserID, m.Name, m.Language = u.ID, u.Name, u.Language
		m.To = address(u.Contacts, config.Channel(p.Channel))
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
	m.Subject, m.Text = render(inc, m.Kind, m.Language)
	return m, nil
}

// incidentInfo is what messages say about the incident beyond Alertmanager's data.
func (e *Engine) incidentInfo(inc *store.Incident, p *notifyPayload) channels.Incident {
	cfg := e.Policies().Config()
	info := channels.Incident{ID: inc.ID, Status: string(inc.Status), Severity: inc.Severity,
		Department: inc.Department, DepartmentID: inc.Department, Route: inc.Route, Policy: inc.Policy,
		CreatedAt: inc.CreatedAt, AckedBy: inc.AckedBy}
	if d := cfg.Department(inc.Department); d != nil {
		info.Department = d.Name
	}
	if p.Kind == "page" {
		info.Step = p.Step + 1
	}
	if p.Kind == "report" {
		if every := e.updateEvery(inc); every > 0 {
			info.NextUpdate = e.now().Add(every)
		}
	}
	if u := cfg.Global.ExternalURL; u != "" {
		info.URL = fmt.Sprintf("%s/api/v1/incidents/%d", strings.TrimRight(u, "/"), inc.ID)
	}
	if msg, err := DecodeMessage(inc.Message); err == nil {
		info.FiringAlerts, info.ResolvedAlerts = len(msg.Alerts.Firing()), len(msg.Alerts.Resolved())
	}
	return info
}

func address(ct config.Contacts, ch config.Channel) string {
	switch ch {
	case config.ChannelSMS:
		return ct.SMS
	case config.ChannelVoice:
		return ct.Voice
	case config.ChannelEmail:
		return ct.Email
	case config.ChannelSlack:
		return ct.Slack
	case config.ChannelWebhook:
		return ct.Webhook
	}
	return ""
}

// render is the plain default text until the channels' templates take over:
// what fires, how bad, where, and how to acknowledge.
func render(inc *store.Incident, kind channels.Kind, lang string) (subject, text string) {
	summary, count := "", 0
	if msg, err := DecodeMessage(inc.Message); err == nil {
		count = len(msg.Alerts.Firing())
		summary = msg.CommonAnnotations["summary"]
		if summary == "" {
			summary = msg.CommonLabels["alertname"]
		}
	}
	sev := strings.ToUpper(inc.Severity)
	if lang == "ja" {
		subject = fmt.Sprintf("[hikyaku #%d] %s %s: %s", inc.ID, sev, inc.Department, summary)
		switch kind {
		case channels.KindPage:
			text = fmt.Sprintf("%s (アラート%d件)。了解は「%d ack」と返信。", subject, count, inc.ID)
		case channels.KindResolved:
			text = fmt.Sprintf("[hikyaku #%d] 解決しました: %s", inc.ID, summary)
		default:
			text = fmt.Sprintf("%s (状態: %s)", subject, inc.Status)
		}
		return subject, text
	}
	subject = fmt.Sprintf("[hikyaku #%d] %s %s: %s", inc.ID, sev, inc.Department, summary)
	switch kind {
	case channels.KindPage:
		text = fmt.Sprintf("%s (%d alerts). Reply \"%d ack\" to acknowledge.", subject, count, inc.ID)
	case channels.KindResolved:
		text = fmt.Sprintf("[hikyaku #%d] resolved: %s", inc.ID, summary)
	default:
		text = fmt.Sprintf("%s (status: %s)", subject, inc.Status)
	}
	return subject, text
}
