package router

import (
	"errors"
	"testing"
	"time"

	"github.com/hikyaku/hikyaku/channels"
)

const registryConfig = `
global: {timezone: Asia/Tokyo}
receivers: [{name: hikyaku, bearer_token: {value: hook-token}}]
users:
  - id: dave
    contacts: {sms: "+819000000004", ntfy: dave-pager}
    notify: [{after: 0s, channels: [sms]}]
  - id: erin
    contacts: {sms: "+819000000005", ntfy: erin-pager}
departments:
  - id: eng
    escalation_policy: eng
    rotations: [{id: primary, start: "2026-01-05 10:00", shift: 1w, members: [dave]}]
    stakeholders: {users: [erin]}
escalation_policies:
  - id: eng
    steps: [{targets: {rotations: [primary]}, escalate_after: 5m}]
default_route: {department: eng}
`

// TestRegisteredChannelInFailoverAndReports: a channel no router code
// names (ntfy) takes over a failed SMS page, and carries a stakeholder's
// report ahead of SMS, by the registry's order and report ranks.
func TestRegisteredChannelInFailoverAndReports(t *testing.T) {
	h := newHarness(t, registryConfig)
	h.sent.Fail = func(m *channels.Message) error {
		if m.Channel == "sms" {
			return channels.Permanent("21211", errors.New("invalid 'To' number"))
		}
		return nil
	}
	h.post("firing", "g1", map[string]string{"alertname": "X"})
	h.advance(0)
	h.advance(time.Second)
	got, _ := h.pages(0)
	eq(t, "pages", got, []string{"ntfy:dave-pager"})
	var report []string
	for _, m := range h.sent.Messages() {
		if m.Kind == channels.KindReport {
			report = append(report, m.Channel+":"+m.To)
		}
	}
	eq(t, "reports", report, []string{"ntfy:erin-pager"})
}
