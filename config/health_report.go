package config

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// HealthReport sends a department's on-call health report (docs/reports.md)
// for the period just ended, weekly or monthly, at a wall-clock time in the
// department's zone.
type HealthReport struct {
	// Every is "weekly" (the seven days before the sending day) or
	// "monthly" (the calendar month before the sending month).
	Every string `yaml:"every"`
	// Weekday is the sending day of a weekly report (default monday).
	Weekday string `yaml:"weekday"`
	// Day is the sending day of the month of a monthly report, 1 to 28 (default 1).
	Day int `yaml:"day"`
	// At is the sending time, "HH:MM" in the department's zone (default 09:00).
	At string              `yaml:"at"`
	To HealthReportTargets `yaml:"to"`

	// Parsed: Monthly, the weekday, and At as hour and minute.
	Monthly      bool         `yaml:"-"`
	SendWeekday  time.Weekday `yaml:"-"`
	Hour, Minute int          `yaml:"-"`
}

// HealthReportTargets are who get the report: named users and Slack chat
// channels, and the department's admins and stakeholders as configured.
type HealthReportTargets struct {
	Users        []string `yaml:"users"`
	ChatChannels []string `yaml:"chat_channels"`
	Admins       bool     `yaml:"admins"`
	Stakeholders bool     `yaml:"stakeholders"`
}

// HealthRecipient is one recipient of a health report and the channel it
// takes to them; Channel is "" for a user with neither email nor Slack.
type HealthRecipient struct {
	User        string
	ChatChannel string
	Channel     Channel
}

// Spec is the schedule in one canonical line ("weekly monday 09:00
// Asia/Tokyo"): a stored timer armed for another spec is re-armed.
func (h *HealthReport) Spec(loc *time.Location) string {
	day := strings.ToLower(h.SendWeekday.String())
	if h.Monthly {
		day = fmt.Sprintf("day %d", h.Day)
	}
	return fmt.Sprintf("%s %s %02d:%02d %s", h.Every, day, h.Hour, h.Minute, loc)
}

// healthReportChannels are the channels a health report takes, in order of
// preference: a document to read, not a page, and too long for an SMS.
var healthReportChannels = []Channel{ChannelEmail, ChannelSlack}

// HealthReportRecipients resolves d's health report targets, each user and
// chat channel once, in the order the targets list them: users, chat
// channels, admins, then stakeholders.
func (c *Config) HealthReportRecipients(d *Department) []HealthRecipient {
	if d.HealthReport == nil {
		return nil
	}
	t := d.HealthReport.To
	var out []HealthRecipient
	seen := map[string]bool{}
	addUser := func(id string) {
		u := c.User(id)
		if u == nil || seen["u:"+id] {
			return
		}
		seen["u:"+id] = true
		r := HealthRecipient{User: id}
		for _, ch := range healthReportChannels {
			if u.Contacts.Has(ch) {
				r.Channel = ch
				break
			}
		}
		out = append(out, r)
	}
	addChat := func(id string) {
		cc := c.ChatChannel(id)
		if cc == nil || seen["c:"+id] {
			return
		}
		seen["c:"+id] = true
		r := HealthRecipient{ChatChannel: id}
		if cc.Slack != "" {
			r.Channel = ChannelSlack
		}
		out = append(out, r)
	}
	for _, u := range t.Users {
		addUser(u)
	}
	for _, ch := range t.ChatChannels {
		addChat(ch)
	}
	if t.Admins {
		for _, u := range d.Roles.Admins {
			addUser(u)
		}
	}
	if t.Stakeholders {
		for _, u := range d.Stakeholders.Users {
			addUser(u)
		}
		for _, ch := range d.Stakeholders.ChatChannels {
			addChat(ch)
		}
	}
	return out
}

// validateHealthReport checks d's health_report after roles are settled
// (its admins may be its recipients).
func (l *loader) validateHealthReport(c *Config, d *Department, p string) {
	h := d.HealthReport
	if h == nil {
		return
	}
	p += ".health_report"
	switch h.Every {
	case "weekly":
		if h.Day != 0 {
			l.errAt(p+".day", "day is the day of the month of a monthly report; a weekly one takes weekday")
		}
		h.SendWeekday = time.Monday
		if h.Weekday != "" {
			wd, ok := drillWeekdays[strings.ToLower(h.Weekday)]
			if !ok {
				l.errAt(p+".weekday", fmt.Sprintf("weekday %q: want monday, tuesday, … or sunday", h.Weekday))
			}
			h.SendWeekday = wd
		}
	case "monthly":
		h.Monthly = true
		if h.Weekday != "" {
			l.errAt(p+".weekday", "weekday is the day of a weekly report; a monthly one takes day (1 to 28)")
		}
		switch {
		case h.Day == 0:
			h.Day = 1
		case h.Day < 1 || h.Day > 28:
			// 29 to 31 are missing from some months: a report would skip them.
			l.errAt(p+".day", fmt.Sprintf("day %d: want 1 to 28, a day every month has", h.Day))
		}
	case "":
		if !l.undecoded(p + ".every") {
			l.errAt(p, "health_report needs every: weekly or monthly")
		}
	default:
		l.errAt(p+".every", fmt.Sprintf("every %q: want weekly or monthly", h.Every))
	}
	h.Hour, h.Minute = 9, 0
	if h.At != "" {
		t, err := time.Parse("15:04", h.At)
		if err != nil || len(h.At) != 5 {
			l.errAt(p+".at", fmt.Sprintf("at %q: want a time of day as HH:MM, such as \"09:00\", in the department's timezone", h.At))
		} else {
			h.Hour, h.Minute = t.Hour(), t.Minute()
		}
	}
	t := h.To
	for j, u := range t.Users {
		up := fmt.Sprintf("%s.to.users[%d]", p, j)
		switch usr := c.usersByID[u]; {
		case usr == nil:
			l.userRef(c, up, u)
		case !usr.Contacts.Has(ChannelEmail) && !usr.Contacts.Has(ChannelSlack):
			l.errAt(up, fmt.Sprintf("user %q has neither email nor slack contact: a health report goes by email or Slack", u))
		}
	}
	for j, ch := range t.ChatChannels {
		cp := fmt.Sprintf("%s.to.chat_channels[%d]", p, j)
		switch cc := c.channelsByID[ch]; {
		case cc == nil:
			l.unknownRef("chat_channels", cp, fmt.Sprintf("unknown chat channel %q", ch))
		case cc.Slack == "":
			l.errAt(cp, fmt.Sprintf("chat channel %q is no Slack channel: a health report goes by email or Slack", ch))
		}
	}
	rs := c.HealthReportRecipients(d)
	if len(rs) == 0 && !l.undecoded(p+".to") {
		l.errAt(p+".to", "health_report has nobody to send to: name users or chat_channels, or set admins or stakeholders to true (and give the department some)")
	}
	for _, r := range rs {
		// Named targets without a channel are errors above; these came with
		// admins or stakeholders.
		switch {
		case r.Channel != "", slices.Contains(t.Users, r.User), slices.Contains(t.ChatChannels, r.ChatChannel):
		case r.User != "":
			l.warnAt(p+".to", fmt.Sprintf("user %q gets no health report: it goes by email or Slack, and they have neither", r.User))
		default:
			l.warnAt(p+".to", fmt.Sprintf("chat channel %q gets no health report: it goes by email or Slack, and it is no Slack channel", r.ChatChannel))
		}
	}
}
