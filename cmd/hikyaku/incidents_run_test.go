package main

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

func TestIncidentRunCommands(t *testing.T) {
	url := startServer(t)
	cli := func(args ...string) (int, string, string) {
		var out, errb bytes.Buffer
		code := run(append(args, "--server", url), &out, &errb)
		return code, out.String(), errb.String()
	}
	steps := []struct {
		args []string
		want string
	}{
		{[]string{"incidents", "assign", "1", "--role", "ic", "--user", "tanaka"}, "roles: ic=tanaka"},
		{[]string{"incidents", "assign", "--role", "comm", "1", "--user", "sato"}, "roles: ic=tanaka comm=sato"},
		{[]string{"incidents", "unassign", "1", "--role", "comm"}, "roles: ic=tanaka\n"},
		{[]string{"incidents", "note", "1", "決済を db-2 に切り替える", "--decision", "--action-provisional", "db-2 へ切替"}, "incident 1:"},
		{[]string{"incidents", "note", "--impact", "決済の一部", "1", "影響を確認"}, "incident 1:"},
		{[]string{"incidents", "severity", "1", "major", "--reason", "再試行で成功している"}, "severity major"},
		{[]string{"incidents", "severity", "1", "critical", "--reason", "決済が止まった", "--escalate"}, "severity critical"},
		{[]string{"incidents", "severity", "1", "major", "--reason", "再試行で成功している"}, "severity major"},
	}
	for _, s := range steps {
		code, out, errs := cli(s.args...)
		if code != exitOK || !strings.Contains(out, s.want) {
			t.Fatalf("%v: exit %d, out %q, err %q; want %q", s.args, code, out, errs, s.want)
		}
	}
	code, out, errs := cli("incidents", "timeline", "1", "--format", "markdown", "--lang", "ja")
	for _, want := range []string{"# インシデント #1:", "- 指揮 (IC): ", "(tanaka)", "- 影響範囲: 決済の一部", "- 原因: 未確定",
		"- 現在のSeverity: major (再試行で成功している)", "**決定:** 決済を db-2 に切り替える", "| role\\_unassigned | api | api | 連絡 (Comm): 解除 (sato) |"} {
		if code != exitOK || !strings.Contains(out, want) {
			t.Errorf("timeline markdown lacks %q (exit %d, %s):\n%s", want, code, errs, out)
		}
	}
	code, out, _ = cli("incidents", "timeline", "1")
	if code != exitOK || !strings.Contains(out, "DECISION 決済を db-2 に切り替える") || !strings.Contains(out, "timeline (Asia/Tokyo,") ||
		!strings.Contains(out, "escalated") {
		t.Errorf("timeline text: exit %d\n%s", code, out)
	}
	code, out, _ = cli("incidents", "timeline", "1", "--output", "json")
	var tl struct {
		Figures struct {
			StepsFired int `json:"steps_fired"`
		} `json:"figures"`
		Decisions []struct {
			Actor string `json:"actor"`
		} `json:"decisions"`
	}
	if err := json.Unmarshal([]byte(out), &tl); code != exitOK || err != nil || len(tl.Decisions) != 1 || tl.Decisions[0].Actor != "api" {
		t.Errorf("timeline json: exit %d %v\n%s", code, err, out)
	}
	code, out, _ = cli("incidents", "show", "1")
	if code != exitOK || !strings.Contains(out, "  roles             ic=tanaka\n") || !strings.Contains(out, "  current severity  major\n") {
		t.Errorf("show does not say the roles and current severity:\n%s", out)
	}
	for _, bad := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"incidents", "assign", "1", "--role", "ic"}, exitUsage, "Usage"},
		{[]string{"incidents", "assign", "x", "--role", "ic", "--user", "sato"}, exitUsage, `incident id "x"`},
		{[]string{"incidents", "assign", "1", "--role", "boss", "--user", "sato"}, exitFail, "400 Bad Request: role \"boss\": unknown role"},
		{[]string{"incidents", "assign", "1", "--role", "ic", "--user", "nobody"}, exitFail, `user "nobody": not a configured user`},
		{[]string{"incidents", "note", "1"}, exitUsage, "give the note's TEXT"},
		{[]string{"incidents", "note", "1", "a", "b"}, exitUsage, "give the note's TEXT"},
		{[]string{"incidents", "note", "1", "x", "--cause", ""}, exitUsage, "empty"},
		{[]string{"incidents", "severity", "1", "major"}, exitUsage, "Usage"},
		{[]string{"incidents", "timeline", "1", "--format", "pdf"}, exitUsage, "Usage"},
		{[]string{"incidents", "timeline", "1", "--lang", "fr"}, exitFail, `lang "fr"`},
		{[]string{"incidents", "timeline", "99"}, exitFail, "404"},
	} {
		code, _, errs := cli(bad.args...)
		if code != bad.code || !strings.Contains(errs, bad.want) {
			t.Errorf("%v: exit %d, stderr %q; want %d with %q", bad.args, code, errs, bad.code, bad.want)
		}
	}
}
