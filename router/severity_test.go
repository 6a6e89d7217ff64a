package router

import (
	"context"
	"slices"
	"strings"
	"testing"
)

// severityReportConfig adds to runConfig an executives' department whose
// stakeholder (ceo) asks for critical incidents of any department, and a
// route to it.
var severityReportConfig = strings.NewReplacer(
	"  - {id: boss, contacts: {email: boss@example.com}}",
	"  - {id: boss, contacts: {email: boss@example.com}}\n  - {id: ceo, contacts: {email: ceo@example.com}}",
	"escalation_policies:\n",
	`  - id: execs
    escalation_policy: eng
    stakeholders:
      users: [ceo]
      severities: [critical]
      update_every: 1h
escalation_policies:
`,
	"routes:\n",
	"routes:\n  - {name: execs, matchers: ['team=\"execs\"'], department: execs}\n",
).Replace(runConfig)

// subjects lists the report subjects sent to addr, in order.
func (h *harness) reportSubjects(addr string) []string {
	var out []string
	for _, line := range strings.Split(h.reportsTo(addr), "\n") {
		if s, ok := strings.CutPrefix(line, "=== "); ok {
			out = append(out, s)
		}
	}
	return out
}

// TestSeverityChangeReroutesReports: raising an incident to a severity
// another department's stakeholders asked for gives them the initial
// report at once; lowering it again does not drop them before the final
// report; an incident nobody was informed of starts its reports when its
// severity comes to one its stakeholders asked for.
func TestSeverityChangeReroutesReports(t *testing.T) {
	h := newHarness(t, severityReportConfig)
	ctx := context.Background()
	id := h.post("firing", "g1", map[string]string{"alertname": "CheckoutSlow", "severity": "warning"})[0].ID
	h.advance(0) // 05:00Z: boss, eng's own stakeholder, hears the initial report
	h.advanceToUTC("05:05")
	if _, _, err := h.engine.ChangeSeverity(ctx, SeverityChange{Incident: id, Severity: "critical", Reason: "checkout is down", Actor: "alice", Via: "api"}); err != nil {
		t.Fatal(err)
	}
	h.advance(0)
	h.advanceToUTC("05:10")
	if _, _, err := h.engine.ChangeSeverity(ctx, SeverityChange{Incident: id, Severity: "warning", Reason: "only slow again", Actor: "alice", Via: "api"}); err != nil {
		t.Fatal(err)
	}
	h.advance(0)
	h.advanceToUTC("05:30") // the update, to both
	h.advanceToUTC("05:35")
	if _, err := h.engine.Resolve(ctx, id, "alice", "api"); err != nil {
		t.Fatal(err)
	}
	h.advance(0)
	eq(t, "reports of g1", h.informed(id), []string{
		"05:00 initial 1 next 2026-01-07T05:30:00Z",
		"05:05 initial 1 next 2026-01-07T05:30:00Z", // to ceo alone
		"05:30 update 2 next 2026-01-07T06:00:00Z",
	})
	// ceo hears the initial report at 05:05, then what boss hears: lowering
	// the severity again at 05:10 did not drop him.
	want := []string{"[hikyaku #1] Initial report: disk full", "[hikyaku #1] Update 2: disk full", "[hikyaku #1] Final report: disk full"}
	eq(t, "boss's reports", h.reportSubjects("boss@example.com"), want)
	eq(t, "ceo's reports", h.reportSubjects("ceo@example.com"), want)

	// execs' own incident, warning: its stakeholder asked for critical only.
	quiet := h.post("firing", "g2", map[string]string{"alertname": "BoardDeckLate", "severity": "warning", "team": "execs"})[0].ID
	h.advance(0)
	if got := h.informed(quiet); len(got) != 0 {
		t.Fatalf("a warning informed execs: %q", got)
	}
	h.advanceToUTC("05:37") // step 1 paged alice at 05:35; step 2 is due at 05:40
	if _, _, err := h.engine.ChangeSeverity(ctx, SeverityChange{Incident: quiet, Severity: "critical", Reason: "the board meets at 9", Escalate: true, Actor: "alice", Via: "api"}); err != nil {
		t.Fatal(err)
	}
	h.advance(0)
	eq(t, "reports of g2", h.informed(quiet), []string{"05:37 initial 1 next 2026-01-07T06:37:00Z"})
	eq(t, "g2's change and escalation, one write", h.runEvents(quiet, "severity_changed", "escalated"), []string{
		"severity_changed alice from=warning reason=the board meets at 9 to=critical via=api",
		"escalated alice to_step=2 via=api",
	})
	if got := h.timeline(quiet); !slices.Equal(got[len(got)-6:], []string{"severity_changed", "escalated", "step_fired", "stakeholders_informed", "notified", "notified"}) {
		t.Errorf("g2's timeline %q: want step 2 fired at once and the initial report", got)
	}
}
