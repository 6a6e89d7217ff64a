package slack

import (
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/slack-go/slack"

	"github.com/hikyaku/hikyaku/catalog"
	"github.com/hikyaku/hikyaku/channels"
	"github.com/hikyaku/hikyaku/channels/template"
)

// The buttons' action ids: the interaction handler acts on these, with the
// incident id as their value.
const (
	ActionAck      = "hikyaku_ack"
	ActionResolve  = "hikyaku_resolve"
	ActionEscalate = "hikyaku_escalate"
)

// ActionRole prefixes the buttons that take an incident role: the role id
// follows ("hikyaku_role_ic"), the incident id is the value.
const ActionRole = "hikyaku_role_"

// roleIDs are the roles the page's buttons take, in the order shown.
var roleIDs = []string{"ic", "ops", "comm", "rec"}

// Slack's limits on block text, in characters.
const (
	maxHeader  = 150
	maxSection = 3000
)

type labels struct {
	ack, resolve, escalate, severity, department, incident, step, runbook, dashboard, open string
}

func labelsFor(lang string) labels {
	t := catalog.For(lang)
	return labels{t.T("slack.button.ack"), t.T("slack.button.resolve"), t.T("slack.button.escalate"),
		t.T("slack.label.severity"), t.T("slack.label.department"), t.T("slack.label.incident"), t.T("slack.label.step"),
		t.T("slack.button.runbook"), t.T("slack.button.dashboard"), t.T("slack.button.open")}
}

// Blocks lays m out: the subject as header, the text, a context line with
// severity, department and incident id, link buttons, and, while a page is
// open, the Ack / Resolve / Escalate buttons.
func Blocks(m *channels.Message) []slack.Block {
	w := labelsFor(m.Language)
	inc := m.Incident
	id := strconv.FormatInt(m.IncidentID, 10)
	if inc.ID != 0 {
		id = strconv.FormatInt(inc.ID, 10)
	}
	var blocks []slack.Block
	if m.Subject != "" {
		blocks = append(blocks, slack.NewHeaderBlock(slack.NewTextBlockObject(slack.PlainTextType, cut(m.Subject, maxHeader), false, false)))
	}
	if m.Text != "" {
		blocks = append(blocks, slack.NewSectionBlock(slack.NewTextBlockObject(slack.MarkdownType, cut(escape(m.Text), maxSection), false, false), nil, nil))
	}
	ctx := []slack.MixedElement{}
	if inc.Severity != "" {
		ctx = append(ctx, mrkdwn("*"+w.severity+":* "+escape(inc.Severity)))
	}
	if inc.Department != "" {
		ctx = append(ctx, mrkdwn("*"+w.department+":* "+escape(inc.Department)))
	}
	// A message about no incident (a scheduled health report) names none.
	if m.IncidentID != 0 || inc.ID != 0 {
		incident := "*" + w.incident + ":* #" + id
		if inc.URL != "" {
			incident = "*" + w.incident + ":* <" + inc.URL + "|#" + id + ">"
		}
		ctx = append(ctx, mrkdwn(incident))
	}
	if inc.Step > 0 {
		ctx = append(ctx, mrkdwn("*"+w.step+":* "+strconv.Itoa(inc.Step)))
	}
	if st := status(m.Language, &inc); st != "" {
		ctx = append(ctx, mrkdwn("*"+escape(st)+"*"))
	}
	// Who leads is news to whoever is paged next; a rewrite after an ack
	// shows the acknowledger made IC.
	for _, r := range inc.Roles {
		ctx = append(ctx, mrkdwn("*"+escape(r.Title)+":* "+escape(r.Name)))
	}
	if len(ctx) > 0 {
		blocks = append(blocks, slack.NewContextBlock("hikyaku_context", ctx...))
	}

	var links []slack.BlockElement
	if d, _ := template.NewData(m); d != nil {
		for i, u := range d.Runbooks {
			links = append(links, linkButton("hikyaku_runbook_"+strconv.Itoa(i), w.runbook, u))
		}
		for i, u := range d.Dashboards {
			links = append(links, linkButton("hikyaku_dashboard_"+strconv.Itoa(i), w.dashboard, u))
		}
	}
	if inc.URL != "" {
		links = append(links, linkButton("hikyaku_incident", w.open, inc.URL))
	}
	if len(links) > 0 {
		blocks = append(blocks, slack.NewActionBlock("hikyaku_links", links[:min(len(links), 25)]...))
	}
	if m.Kind == channels.KindPage && (inc.Status == "" || inc.Status == "open") {
		blocks = append(blocks, slack.NewActionBlock("hikyaku_actions",
			slack.NewButtonBlockElement(ActionAck, id, plain(w.ack)).WithStyle(slack.StylePrimary),
			slack.NewButtonBlockElement(ActionResolve, id, plain(w.resolve)),
			slack.NewButtonBlockElement(ActionEscalate, id, plain(w.escalate)).WithStyle(slack.StyleDanger),
		))
	}
	if m.Kind == channels.KindPage && inc.Status != "resolved" && !inc.Test {
		// Roles are taken while the incident runs, acknowledged or not.
		var roles []slack.BlockElement
		t := catalog.For(m.Language)
		for _, role := range roleIDs {
			title := inc.RoleTitles[role]
			if title == "" {
				title = t.T(catalog.Key("incident.role." + role))
			}
			roles = append(roles, slack.NewButtonBlockElement(ActionRole+role, id, plain(cut(t.T("slack.button.take_role", title), 75))))
		}
		blocks = append(blocks, slack.NewActionBlock("hikyaku_roles", roles...))
	}
	return blocks
}

// status says who acted once the incident is no longer open.
func status(lang string, inc *channels.Incident) string {
	t := catalog.For(lang)
	switch inc.Status {
	case "acked":
		if inc.AckedBy != "" {
			return t.T("slack.status.acked_by", inc.AckedBy)
		}
		return t.T("slack.status.acked")
	case "resolved":
		return t.T("slack.status.resolved")
	}
	return ""
}

func linkButton(actionID, label, url string) *slack.ButtonBlockElement {
	return slack.NewButtonBlockElement(actionID, "", plain(label)).WithURL(url)
}

func plain(s string) *slack.TextBlockObject {
	return slack.NewTextBlockObject(slack.PlainTextType, s, false, false)
}

func mrkdwn(s string) *slack.TextBlockObject {
	return slack.NewTextBlockObject(slack.MarkdownType, s, false, false)
}

// escape makes text literal in mrkdwn: Slack reads <, > and & as markup,
// so an alert saying "latency > 5s" would otherwise lose its words.
func escape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}

// cut shortens s to n characters with an ellipsis, never splitting a rune
// (nor an escape such as &amp;, which Slack counts as one character).
func cut(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)[:n-1]
	out := string(r)
	if i := strings.LastIndexByte(out, '&'); i >= 0 && !strings.Contains(out[i:], ";") {
		out = out[:i]
	}
	return out + "…"
}
