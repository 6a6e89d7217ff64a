package storetest

import (
	"reflect"
	"testing"
	"time"

	"github.com/hikyaku/hikyaku/store"
)

// RunReports tests what a store keeps of an incident's stakeholder reports
// (store.ReportState, store.ReportFields, the roles) and the one report
// timer that goes with them (router/reports.go).
func RunReports(t *testing.T, open func(t *testing.T) store.Store) {
	runPart(t, open, []test[store.Store]{
		{"StateRoundTrips", testReportsRoundTrip},
		{"NextReportMoves", testReportTimerMoves},
	})
}

// reportsFixture is an incident whose reports state has every field set,
// a Japanese draft with a line break included.
func reportsFixture() *store.Incident {
	inc := newIncident()
	inc.Key, inc.Department, inc.Severity = "r/reports", "web", "critical"
	inc.Roles = map[string]string{"ic": "alice", "comm": "carol"}
	inc.Report = &store.ReportFields{Impact: "checkout fails", CurrentSeverity: "major", SeverityReason: "only retries fail",
		Cause: "disk full", ActionProvisional: "failed over", ActionPermanent: "bigger disks", Prevention: "OPS-123"}
	inc.Reports = &store.ReportState{Sent: 3, LastAt: t0.Add(time.Hour), NextAt: t0.Add(90 * time.Minute), Period: 1800,
		Draft: "DB を切り替え中\n次は 10:00", DraftReplace: true,
		Last: &store.ReportSnapshot{Status: "acked", AckedBy: "alice", Severity: "major", Impact: "checkout fails",
			Firing: []string{"HighErrorRate (api-1)", "HighErrorRate (api-2)"}}}
	return inc
}

func reportTimerAt(due time.Time) store.Timer {
	return store.Timer{ID: "rpt/report/" + due.UTC().Format(time.RFC3339), Kind: "report", Due: due}
}

// testReportsRoundTrip: every field of the reports state comes back as
// written, from Get and from a query, and a change that clears the draft
// keeps the rest.
func testReportsRoundTrip(t *testing.T, s store.Store) {
	want := reportsFixture()
	res, err := s.UpdateByKey(ctx(t), want.Key, func(cur *store.Incident) (*store.Change, error) {
		inc := *want
		return &store.Change{Incident: &inc, Schedule: []store.Timer{reportTimerAt(want.Reports.NextAt)}}, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	want.ID, want.Version = res.Incident.ID, 1
	got, err := s.Get(ctx(t), want.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("Get = %+v\nreports %+v\nwant %+v\nreports %+v", got, got.Reports, want, want.Reports)
	}
	page, err := s.Query(ctx(t), store.ListOptions{Department: "web"})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Incidents) != 1 || !reflect.DeepEqual(page.Incidents[0].Reports, want.Reports) || !reflect.DeepEqual(page.Incidents[0].Report, want.Report) {
		t.Fatalf("Query = %+v, want the incident with reports %+v", page.Incidents, want.Reports)
	}

	// The next report goes out: the draft is used up, the count and the
	// last snapshot move on; the roles and fields stay.
	sent := t0.Add(90 * time.Minute)
	got = change(t, s, want.ID, func(inc *store.Incident) *store.Change {
		rs := *inc.Reports
		rs.Sent, rs.LastAt, rs.NextAt, rs.Draft, rs.DraftReplace = 4, sent, sent.Add(30*time.Minute), "", false
		rs.Last = &store.ReportSnapshot{Status: "acked", AckedBy: "alice", Severity: "major"}
		inc.Reports = &rs
		return &store.Change{Incident: inc}
	})
	stored, err := s.Get(ctx(t), want.ID)
	if err != nil {
		t.Fatal(err)
	}
	wantRS := store.ReportState{Sent: 4, LastAt: sent, NextAt: sent.Add(30 * time.Minute), Period: 1800,
		Last: &store.ReportSnapshot{Status: "acked", AckedBy: "alice", Severity: "major"}}
	if !reflect.DeepEqual(*stored.Reports, wantRS) || !reflect.DeepEqual(stored.Reports, got.Reports) {
		t.Fatalf("after the next report: stored %+v, update returned %+v, want %+v", stored.Reports, got.Reports, wantRS)
	}
	if !reflect.DeepEqual(stored.Roles, want.Roles) || !reflect.DeepEqual(stored.Report, want.Report) {
		t.Fatalf("roles %v fields %+v changed, want %v %+v", stored.Roles, stored.Report, want.Roles, want.Report)
	}
}

// testReportTimerMoves: moving the next report (Comm's new period) is one
// change that cancels the old report timer and schedules the new one; the
// old one never comes due, the new one does at its time.
func testReportTimerMoves(t *testing.T, s store.Store) {
	inc := reportsFixture()
	old := reportTimerAt(inc.Reports.NextAt)
	res, err := s.UpdateByKey(ctx(t), inc.Key, func(cur *store.Incident) (*store.Change, error) {
		return &store.Change{Incident: inc, Schedule: []store.Timer{old}}, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	id := res.Incident.ID
	moved := t0.Add(75 * time.Minute)
	next := reportTimerAt(moved)
	change(t, s, id, func(cur *store.Incident) *store.Change {
		rs := *cur.Reports
		rs.NextAt, rs.Period = moved, 900
		cur.Reports = &rs
		return &store.Change{Incident: cur, Cancel: []string{old.ID}, Schedule: []store.Timer{next}}
	})
	stored, err := s.Get(ctx(t), id)
	if err != nil {
		t.Fatal(err)
	}
	if !stored.Reports.NextAt.Equal(moved) || stored.Reports.Period != 900 {
		t.Fatalf("reports %+v, want next_at %v and period 900", stored.Reports, moved)
	}
	wantPending(t, s, 1)
	if cs := claim(t, s, moved.Add(-time.Second), "r1", time.Minute, 10); len(cs) != 0 {
		t.Fatalf("claimed %v before the moved report's time", claimIDs(cs))
	}
	cs := claim(t, s, inc.Reports.NextAt.Add(time.Hour), "r1", time.Minute, 10)
	if len(cs) != 1 || cs[0].ID != next.ID || cs[0].IncidentID != id || !cs[0].Due.Equal(moved) || cs[0].Kind != "report" {
		t.Fatalf("claimed %+v, want only %s due %v of incident %d", cs, next.ID, moved, id)
	}
}
