package template

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"slices"
	"time"

	amtemplate "github.com/prometheus/alertmanager/template"

	"github.com/hikyaku/hikyaku/catalog"
	"github.com/hikyaku/hikyaku/channels"
)

// maxItems bounds the alerts a message lists one by one: a page about a
// hundred instances must still fit a phone screen.
const maxItems = 10

// Data is what every template sees: Alertmanager's own template data, so
// Alertmanager templates work unchanged, plus what hikyaku adds.
type Data struct {
	*amtemplate.Data
	Incident channels.Incident
	Channel  string // sms, voice, email, slack, webhook
	Kind     string // page, report, resolved
	Language string // ja or en
	// Title is the one line that says what fires: the common summary, else
	// the first alert's summary, else the alert name.
	Title       string
	Description string // the common description, if every alert shares one
	// Items are the alerts of this message's kind (firing, or resolved for a
	// final report), at most ten, each with the line that tells it apart.
	Items     []Item
	MoreItems int // alerts left out of Items
	// Runbooks and Dashboards are the distinct runbook_url and dashboard
	// annotations of all alerts, common or not.
	Runbooks   []string
	Dashboards []string
	// AckHint tells the recipient how to acknowledge on this channel, with the incident id.
	AckHint string
	// Links are the recipient's signed action URLs by action (ack, resolve,
	// escalate): a GET shows a confirmation page, only its button acts.
	Links map[string]string
	// Report is the stakeholder report (Incident.StakeholderReport), nil on a page.
	Report *channels.Report
	// NextUpdate is Incident.NextUpdate written for the recipient (empty when none).
	NextUpdate string
	// Subject and Text are the rendered message, for body templates (webhooks) that embed it.
	Subject string
	Text    string
}

// Item is one alert as a message lists it.
type Item struct {
	Name   string // the label that tells it apart (instance, pod, …) or its alert name
	Text   string // its description, else its summary
	Status string
	amtemplate.Alert
}

// NewData builds a message's template data. Data that is not Alertmanager
// JSON still renders (with the incident's facts alone) so a page goes out.
func NewData(m *channels.Message) (*Data, error) {
	d := &Data{Data: &amtemplate.Data{}, Incident: m.Incident, Channel: m.Channel, Kind: string(m.Kind),
		Language: lang(m.Language), Subject: m.Subject, Text: m.Text, Links: m.Links, AckHint: m.AckHint}
	var err error
	if len(m.Data) > 0 {
		if jerr := json.Unmarshal(m.Data, d.Data); jerr != nil {
			d.Data = &amtemplate.Data{}
			err = fmt.Errorf("template data: alertmanager message: %w", jerr)
		}
	}
	d.Report = m.Incident.StakeholderReport
	d.fill()
	return d, err
}

func (d *Data) fill() {
	alerts := d.Alerts.Firing()
	if d.Kind == string(channels.KindResolved) || len(alerts) == 0 {
		alerts = d.Alerts
	}
	d.Title = d.CommonAnnotations["summary"]
	for _, a := range alerts {
		if d.Title == "" {
			d.Title = a.Annotations["summary"]
		}
		d.Runbooks = appendNew(d.Runbooks, a.Annotations["runbook_url"])
		d.Dashboards = appendNew(d.Dashboards, a.Annotations["dashboard"])
	}
	d.Runbooks = appendNew(d.Runbooks, d.CommonAnnotations["runbook_url"])
	d.Dashboards = appendNew(d.Dashboards, d.CommonAnnotations["dashboard"])
	for _, k := range []string{"alertname"} {
		if d.Title == "" {
			d.Title = d.CommonLabels[k]
		}
		if d.Title == "" {
			d.Title = d.GroupLabels[k]
		}
	}
	if d.Title == "" && len(alerts) > 0 {
		d.Title = alerts[0].Labels["alertname"]
	}
	d.Description = d.CommonAnnotations["description"]
	if d.Incident.PagedAs != "" {
		// Whatever the admin's templates do with Title, the person reads
		// first that they are asked to lead.
		d.Title = catalog.Text(d.Language, "page.paged_as", d.Incident.PagedAs, d.Title)
	}
	if d.Incident.Test {
		// Whatever the admin's templates do with Title, a test page reads as one.
		d.Title = catalog.Text(d.Language, "test.title")
		d.Description = catalog.Text(d.Language, "test.description", d.Channel)
	}
	for i, a := range alerts {
		if i == maxItems {
			d.MoreItems = len(alerts) - maxItems
			break
		}
		common := d.CommonLabels
		if len(alerts) == 1 {
			common = nil // everything is common to one alert: name it by its instance
		}
		it := item(a, common)
		if it.Text == d.Description || it.Text == d.Title {
			it.Text = "" // said once already
		}
		d.Items = append(d.Items, it)
	}
	if d.AckHint == "" {
		d.AckHint = ackHint(d.Channel, d.Language, &d.Incident)
	}
	if !d.Incident.NextUpdate.IsZero() {
		d.NextUpdate = formatTime(d.Incident.NextUpdate, d.Language)
	}
}

// item names an alert by the first label that differs between the group's
// alerts: that is what the recipient needs to tell them apart.
func item(a amtemplate.Alert, common amtemplate.KV) Item {
	it := Item{Status: a.Status, Alert: a, Text: a.Annotations["description"]}
	if it.Text == "" {
		it.Text = a.Annotations["summary"]
	}
	for _, k := range []string{"instance", "pod", "host", "node", "service", "job"} {
		if v := a.Labels[k]; v != "" && common[k] == "" {
			it.Name = v
			return it
		}
	}
	for _, p := range a.Labels.SortedPairs() {
		if _, shared := common[p.Name]; !shared {
			it.Name = p.Name + "=" + p.Value
			return it
		}
	}
	it.Name = a.Labels["alertname"]
	return it
}

func appendNew(list []string, v string) []string {
	if v == "" || slices.Contains(list, v) {
		return list
	}
	return append(list, v)
}

// lang is l when hikyaku has default templates in it, else English, the
// fallback of every template.
func lang(l string) string {
	if _, err := fs.Stat(defaultFiles, "defaults/"+l+".tmpl"); err == nil {
		return l
	}
	return "en"
}

// ackHint says how to acknowledge on each channel. Replies carry the id, so
// someone paged for two incidents acknowledges the right one.
func ackHint(channel, lang string, inc *channels.Incident) string {
	t, id := catalog.For(lang), inc.ID
	switch channel {
	case "sms":
		return t.T("hint.ack.sms", id)
	case "email":
		return t.T("hint.ack.email", id)
	case "voice":
		return t.T("hint.ack.voice")
	case "slack":
		return t.T("hint.ack.slack")
	}
	target := fmt.Sprintf("/api/v1/incidents/%d/ack", id)
	if inc.URL != "" {
		target = inc.URL + "/ack"
	}
	return t.T("hint.ack.api", target)
}

// formatTime writes t in its own zone (the router puts it in the
// recipient's) the way each language writes a time of day.
func formatTime(t time.Time, lang string) string {
	return t.Format(catalog.Text(lang, "time.layout"))
}
