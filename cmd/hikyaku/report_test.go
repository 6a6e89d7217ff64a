package main

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func TestReportCommand(t *testing.T) {
	url := startServer(t)
	cli := func(args ...string) (int, string, string) {
		var out, errb bytes.Buffer
		code := run(append(args, "--server", url), &out, &errb)
		return code, out.String(), errb.String()
	}
	_, out, _ := cli("incidents", "list", "--output", "json")
	var page incidentPage
	if err := json.Unmarshal([]byte(out), &page); err != nil || len(page.Items) != 1 {
		t.Fatalf("list: %v %s", err, out)
	}
	dept := page.Items[0].Department
	now := time.Now().UTC()
	period := []string{"--department", dept, "--from", now.Add(-time.Hour).Format(time.RFC3339), "--to", now.Add(time.Hour).Format(time.RFC3339)}
	code, out, errs := cli(append([]string{"report", "--output", "json"}, period...)...)
	var r struct {
		Department string `json:"department"`
		Incidents  int    `json:"incidents"`
	}
	if err := json.Unmarshal([]byte(out), &r); code != exitOK || err != nil || r.Department != dept || r.Incidents != 1 {
		t.Fatalf("json: exit %d %v %s %s", code, err, out, errs)
	}
	code, out, _ = cli(append([]string{"report", "--lang", "en"}, period...)...)
	if code != exitOK || !strings.Contains(out, "On-call health report: ") || !strings.Contains(out, "Incidents: 1 (acknowledged 0, resolved 0)") {
		t.Errorf("text en: exit %d\n%s", code, out)
	}
	code, out, _ = cli(append([]string{"report", "--lang", "ja", "--output", "markdown"}, period...)...)
	if code != exitOK || !strings.HasPrefix(out, "# オンコール健全性レポート: ") || !strings.Contains(out, "| インシデント | 1 件 (確認済み 0、解決済み 0) |") {
		t.Errorf("markdown ja: exit %d\n%s", code, out)
	}
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"report", "--department", dept}, exitUsage, "give --department, --from and --to"},
		{append([]string{"report", "--output", "pdf"}, period...), exitUsage, `--output "pdf"`},
		{[]string{"report", "--department", dept, "--from", "yesterday", "--to", "today"}, exitFail, `from: "yesterday" is not an RFC 3339 time`},
		{[]string{"report", "--department", "nope", "--from", "2026-11-01T00:00:00Z", "--to", "2026-11-02T00:00:00Z"}, exitFail, `404 Not Found: department "nope"`},
	} {
		code, _, errs := cli(tc.args...)
		if code != tc.code || !strings.Contains(errs, tc.want) {
			t.Errorf("%v: exit %d %q, want %d %q", tc.args, code, errs, tc.code, tc.want)
		}
	}
}
