package e2e

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// TestPageCheck proves the end-to-end tests' verdict can fail: each way a
// page can go wrong (lost, sent twice, sent to the wrong number, not in the
// plan) is reported, and a clean run is not.
func TestPageCheck(t *testing.T) {
	at := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	clean := func() []sent {
		var out []sent
		for _, pg := range testPlan.pages(7) {
			out = append(out, sent{Replica: "r1", logLine: logLine{Msg: msgRecorded, Kind: "page", Channel: "sms",
				Incident: 7, To: phones[pg.User], Time: at.Add(testPlan.due(pg)),
				Key: fmt.Sprintf("abcd/g0/r%d/s%d/u:%s/sms/0", pg.Round, pg.Step, pg.User)}})
		}
		return out
	}
	tests := []struct {
		name  string
		edit  func([]sent) []sent
		allow func(first, again sent) bool
		want  string
	}{
		{"clean", func(s []sent) []sent { return s }, nil, ""},
		{"lost", func(s []sent) []sent { return s[:len(s)-1] }, nil, "never sent"},
		{"twice", func(s []sent) []sent { d := s[1]; d.Replica = "r2"; return append(s, d) }, nil, "sent twice"},
		{"twice, excused", func(s []sent) []sent { d := s[1]; d.Replica = "r2"; return append(s, d) },
			func(first, again sent) bool { return again.Replica == "r2" }, ""},
		{"wrong number", func(s []sent) []sent { s[0].To = phones["bob"]; return s }, nil, "want sms to"},
		{"not in plan", func(s []sent) []sent {
			x := s[0]
			x.Key = "abcd/g0/r5/s0/u:alice/sms/0"
			return append(s, x)
		}, nil, "not in the plan"},
		{"other incident", func(s []sent) []sent { s[0].Incident = 8; return s }, nil, "not in the plan"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, problems := byPage(tc.edit(clean()), []int64{7}, testPlan, tc.allow)
			got := strings.Join(problems, "\n")
			switch {
			case tc.want == "" && got != "":
				t.Errorf("problems in a clean run:\n%s", got)
			case tc.want != "" && !strings.Contains(got, tc.want):
				t.Errorf("problems %q, want one containing %q", got, tc.want)
			}
		})
	}
}
