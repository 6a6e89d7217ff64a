package config

import (
	"fmt"
	"time"

	"github.com/prometheus/alertmanager/pkg/labels"
)

// Heartbeat watches an alert that should always be firing, such as
// Alertmanager's Watchdog: a webhook post that matches it is taken as a sign
// of life, not as an incident, and when none arrives within Timeout hikyaku
// opens an incident of its own for Department.
type Heartbeat struct {
	// Name is unique; it names the heartbeat's timer, metrics and incident.
	Name string `yaml:"name"`
	// Matchers, in Alertmanager's syntax, pick the heartbeat's posts by the
	// group's labels, like a route's: alertname="Watchdog", cluster="prod".
	Matchers []string `yaml:"matchers"`
	// Timeout is how long hikyaku waits for the next post before paging.
	Timeout Duration `yaml:"timeout"`
	// Department and EscalationPolicy are who is paged; the policy defaults to the department's.
	Department       string `yaml:"department"`
	EscalationPolicy string `yaml:"escalation_policy"`
	// Severity of the incident; default DefaultHeartbeatSeverity.
	Severity       string          `yaml:"severity"`
	ParsedMatchers labels.Matchers `yaml:"-"`
}

// Heartbeat defaults and bounds.
const (
	DefaultHeartbeatSeverity = "critical"
	// MinHeartbeatTimeout keeps a typo (1ms) from paging on every beat.
	MinHeartbeatTimeout = time.Second
)

// Heartbeat returns the heartbeat named name, or nil.
func (c *Config) Heartbeat(name string) *Heartbeat {
	for _, h := range c.Heartbeats {
		if h.Name == name {
			return h
		}
	}
	return nil
}

// HeartbeatPolicy is the escalation policy a heartbeat pages with: its own, or its department's.
func (c *Config) HeartbeatPolicy(h *Heartbeat) *Policy {
	if h.EscalationPolicy != "" {
		return c.Policy(h.EscalationPolicy)
	}
	if d := c.Department(h.Department); d != nil {
		return c.Policy(d.EscalationPolicy)
	}
	return nil
}

func (l *loader) validateHeartbeats(c *Config) {
	seen := map[string]bool{}
	for i, h := range c.Heartbeats {
		p := fmt.Sprintf("heartbeats[%d]", i)
		switch {
		case h.Name == "" && l.undecoded(p+".name"):
		case h.Name == "":
			l.errAt(p, "heartbeat needs a name")
		case !idRe.MatchString(h.Name):
			l.errAt(p+".name", fmt.Sprintf("heartbeat name %q: use letters, digits, '.', '_' and '-', starting with a letter or digit", h.Name))
		case seen[h.Name]:
			l.errAt(p+".name", fmt.Sprintf("duplicate heartbeat name %q", h.Name))
		}
		seen[h.Name] = true
		if len(h.Matchers) == 0 && !l.undecoded(p+".matchers") {
			l.errAt(p, `heartbeat needs matchers that pick its alert, e.g. ['alertname="Watchdog"', 'cluster="prod"']`)
		}
		for k, s := range h.Matchers {
			m, err := labels.ParseMatcher(s)
			if err != nil {
				l.errAt(fmt.Sprintf("%s.matchers[%d]", p, k), fmt.Sprintf("invalid matcher %q: %v", s, err))
				continue
			}
			h.ParsedMatchers = append(h.ParsedMatchers, m)
		}
		if len(h.ParsedMatchers) == len(h.Matchers) && len(h.Matchers) > 0 && !pinsAlertname(h.ParsedMatchers) {
			// A post the heartbeat matches is consumed, never paged: matchers
			// as broad as cluster="prod" would swallow every real alert.
			l.errAt(p+".matchers", `heartbeat matchers must name the alert with alertname="…" (e.g. alertname="Watchdog"): every alert they match is taken as a heartbeat and pages nobody`)
		}
		switch {
		case h.Timeout == 0 && l.undecoded(p+".timeout"):
		case h.Timeout == 0:
			l.errAt(p, "heartbeat needs a timeout: how long without its alert before paging (longer than Alertmanager's repeat_interval for it)")
		case h.Timeout.D() < MinHeartbeatTimeout:
			l.errAt(p+".timeout", fmt.Sprintf("timeout %s is too short: at least %s", h.Timeout, Duration(MinHeartbeatTimeout)))
		}
		if h.Severity == "" {
			h.Severity = DefaultHeartbeatSeverity
		}
		l.heartbeatTarget(c, h, p)
	}
}

// heartbeatTarget checks who a heartbeat pages, as validateRoute does for a route.
func (l *loader) heartbeatTarget(c *Config, h *Heartbeat, p string) {
	if h.Department == "" {
		if !l.undecoded(p + ".department") {
			l.errAt(p, "heartbeat needs a department to page")
		}
		return
	}
	d := c.departmentsByID[h.Department]
	if d == nil {
		l.unknownRef("departments", p+".department", fmt.Sprintf("unknown department %q", h.Department))
		return
	}
	switch {
	case h.EscalationPolicy != "":
		if c.policiesByID[h.EscalationPolicy] == nil {
			l.unknownRef("escalation_policies", p+".escalation_policy", fmt.Sprintf("unknown escalation policy %q", h.EscalationPolicy))
		}
	case d.EscalationPolicy == "":
		l.errAt(p, fmt.Sprintf("heartbeat names no escalation_policy and department %q has none", d.ID))
	}
}

// Matches tells whether a group with these labels is this heartbeat's alert.
func (h *Heartbeat) Matches(lbls map[string]string) bool {
	for _, m := range h.ParsedMatchers {
		if !m.Matches(lbls[m.Name]) {
			return false
		}
	}
	return len(h.ParsedMatchers) > 0
}

func pinsAlertname(ms labels.Matchers) bool {
	for _, m := range ms {
		if m.Name == "alertname" && m.Type == labels.MatchEqual && m.Value != "" {
			return true
		}
	}
	return false
}
