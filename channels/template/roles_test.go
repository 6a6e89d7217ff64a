package template

import (
	"strings"
	"testing"

	"github.com/hikyaku/hikyaku/channels"
)

// TestReportsNameTheRoleHolders: stakeholders read who leads the incident in
// every written report, and a person paged (by step 2, say) in every written
// page; nothing about roles while nobody holds one.
func TestReportsNameTheRoleHolders(t *testing.T) {
	roles := []channels.RoleHolder{{Role: "ic", Title: "IC", User: "tanaka", Name: "田中"}, {Role: "comm", Title: "広報", User: "sato", Name: "佐藤"}}
	for _, tc := range []struct {
		channel string
		kind    channels.Kind
		lang    string
	}{
		{"email", channels.KindReport, "en"}, {"email", channels.KindResolved, "en"},
		{"email", channels.KindReport, "ja"}, {"email", channels.KindResolved, "ja"},
		{"slack", channels.KindReport, "en"}, {"slack", channels.KindResolved, "ja"},
		{"email", channels.KindPage, "en"}, {"email", channels.KindPage, "ja"},
	} {
		m := message(t, "firing-two-alerts-ja.json", tc.channel, tc.kind, tc.lang)
		_, without := render(t, Default(), m)
		if strings.Contains(without, "田中") || strings.Contains(without, "IC:") {
			t.Errorf("%s %s %s without roles names one:\n%s", tc.channel, tc.kind, tc.lang, without)
		}
		m.Incident.Roles = roles
		_, text := render(t, Default(), m)
		if !strings.Contains(text, "\nIC: 田中 | 広報: 佐藤\n") {
			t.Errorf("%s %s %s: no line \"IC: 田中 | 広報: 佐藤\":\n%s", tc.channel, tc.kind, tc.lang, text)
		}
	}
}
