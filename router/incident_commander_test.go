package router

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/hikyaku/hikyaku/channels"
)

// icConfig pages alice (primary) at step 1 and bob (secondary) at step 2;
// its policy's incident_commander rotation has carol on call, the other
// policy's (ic-alice) alice, whom step 1 pages anyway, and the empty
// one's (ic-none) nobody.
const icConfig = `
global:
  timezone: Asia/Tokyo
receivers:
  - name: hikyaku
    bearer_token: {value: hook-token}
users:
  - {id: alice, contacts: {sms: "+819000000001"}}
  - {id: bob, contacts: {sms: "+819000000002"}}
  - {id: carol, language: ja, contacts: {sms: "+819000000003", email: carol@example.com}}
departments:
  - id: eng
    escalation_policy: eng
    rotations:
      - {id: primary, start: "2026-01-05 10:00", shift: 1w, members: [alice]}
      - {id: secondary, start: "2026-01-05 10:00", shift: 1w, members: [bob]}
      - {id: ic, start: "2026-01-05 10:00", shift: 1w, members: [carol]}
      - {id: later, start: "2026-01-05 10:00", shift: 1w, members: [bob], active: [never]}
time_intervals:
  - name: never
    time_intervals:
      - years: ["1999"]
escalation_policies:
  - id: eng
    incident_commander: {rotation: ic}
    steps:
      - targets: {rotations: [primary]}
        escalate_after: 5m
      - targets: {rotations: [secondary]}
        escalate_after: 5m
  - id: ic-alice
    incident_commander: {rotation: primary}
    steps:
      - targets: {rotations: [primary]}
        escalate_after: 5m
  - id: ic-none
    incident_commander: {rotation: later}
    steps:
      - targets: {rotations: [primary]}
        escalate_after: 5m
routes:
  - {name: same, matchers: ['team="same"'], department: eng, escalation_policy: ic-alice}
  - {name: none, matchers: ['team="none"'], department: eng, escalation_policy: ic-none}
default_route:
  department: eng
`

// TestICRotationIsPagedBesideStepOne: at the opening the IC rotation's
// on-call person is paged with step 1, on their notification rules, told
// they are paged as IC, and becomes IC; their ack does what an ack does:
// the escalation stops, and they stay IC.
func TestICRotationIsPagedBesideStepOne(t *testing.T) {
	h := newHarness(t, icConfig)
	ctx := context.Background()
	id := h.post("firing", "g1", map[string]string{"alertname": "A"})[0].ID
	h.advance(0)
	got, n := h.pages(0)
	eq(t, "pages at the opening", got, []string{"email:carol@example.com", "sms:+819000000001", "sms:+819000000003"})
	for _, m := range h.sent.Messages() {
		asIC := strings.Contains(m.Subject+m.Text, "指揮 (IC) として呼び出されています。インシデントを指揮してください")
		if asIC != (m.UserID == "carol") {
			t.Errorf("%s page to %s: says paged as IC %v\n%s\n%s", m.Channel, m.UserID, asIC, m.Subject, m.Text)
		}
		if m.UserID == "carol" && m.Incident.PagedAs != "指揮 (IC)" {
			t.Errorf("carol's %s page: PagedAs %q", m.Channel, m.Incident.PagedAs)
		}
	}
	if got := h.get(id).Roles; len(got) != 1 || got["ic"] != "carol" {
		t.Errorf("roles %v, want ic carol", got)
	}
	eq(t, "timeline", h.runEvents(id, "ic_paged", "role_assigned", "acked"), []string{
		"ic_paged  rotation=ic users=carol",
		"role_assigned  role=ic user=carol via=ic_rotation",
	})

	if _, err := h.engine.Ack(ctx, id, "carol", "sms"); err != nil {
		t.Fatal(err)
	}
	h.advance(10 * time.Minute)
	if got, _ := h.pages(n); len(got) != 0 {
		t.Errorf("pages after the IC's ack: %v, want none", got)
	}
	inc := h.get(id)
	if inc.AckedBy != "carol" || inc.Roles["ic"] != "carol" || len(inc.Roles) != 1 {
		t.Errorf("after carol's ack: acked by %q, roles %v", inc.AckedBy, inc.Roles)
	}
	eq(t, "timeline after the ack", h.runEvents(id, "ic_paged", "role_assigned", "acked"), []string{
		"ic_paged  rotation=ic users=carol",
		"role_assigned  role=ic user=carol via=ic_rotation",
		"acked carol via=sms",
	})
}

// TestICRotationEdges: a responder's ack leaves the IC rotation's person
// IC; an IC rotation's person whom step 1 pages too gets one page per
// channel, as IC; an IC rotation with nobody on call pages no IC and says
// so on the timeline; an escalation by hand starts no second IC page.
func TestICRotationEdges(t *testing.T) {
	h := newHarness(t, icConfig)
	ctx := context.Background()
	id := h.post("firing", "g1", map[string]string{"alertname": "A"})[0].ID
	h.advance(0)
	if _, err := h.engine.Ack(ctx, id, "alice", "sms"); err != nil {
		t.Fatal(err)
	}
	if got := h.get(id).Roles; got["ic"] != "carol" || len(got) != 1 {
		t.Errorf("alice's ack took the role: %v, want ic carol", got)
	}
	_, n := h.pages(0)
	if _, err := h.engine.Escalate(ctx, id, "alice", "api"); err != nil {
		t.Fatal(err)
	}
	h.advance(0)
	got, n := h.pages(n)
	eq(t, "pages of the escalation", got, []string{"sms:+819000000002"})
	if evs := h.runEvents(id, "ic_paged"); len(evs) != 1 {
		t.Errorf("ic_paged %v, want once", evs)
	}

	same := h.post("firing", "g2", map[string]string{"alertname": "B", "team": "same"})[0].ID
	h.advance(0)
	got, n = h.pages(n)
	eq(t, "alice in step 1 and IC", got, []string{"sms:+819000000001"})
	if last := h.sent.Messages()[len(h.sent.Messages())-1]; last.Incident.PagedAs != "IC" {
		t.Errorf("alice's page: PagedAs %q, want IC", last.Incident.PagedAs)
	}
	if got := h.get(same).Roles["ic"]; got != "alice" {
		t.Errorf("ic %q, want alice", got)
	}

	none := h.post("firing", "g3", map[string]string{"alertname": "C", "team": "none"})[0].ID
	h.advance(0)
	got, _ = h.pages(n)
	eq(t, "nobody on call for IC", got, []string{"sms:+819000000001"})
	eq(t, "timeline", h.runEvents(none, "ic_paged", "role_assigned"), []string{"ic_paged  empty=true rotation=later"})
	for _, m := range h.sent.Messages() {
		if m.IncidentID == none && m.Kind == channels.KindPage && m.Incident.PagedAs != "" {
			t.Errorf("a page of the incident without IC says paged as %q", m.Incident.PagedAs)
		}
	}
}
