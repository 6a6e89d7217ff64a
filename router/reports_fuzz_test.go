package router

import (
	"errors"
	"net/http"
	"testing"
	"unicode"
	"unicode/utf8"
)

// FuzzReportRequests: whatever arrives as the body of POST .../reports,
// PUT .../reports/draft or PUT .../reports/period is taken as the one
// change its route asks for, within the limits ChangeReports keeps, or
// refused with a 400 or 413 — never a panic, never another kind of change.
func FuzzReportRequests(f *testing.F) {
	for _, s := range []struct {
		kind uint8
		body string
	}{
		{0, `{"send_now":true}`}, {0, `{"send_now":false}`}, {0, `{}`}, {0, `{"send_now":"yes"}`},
		{1, `{"text":"DB failover under way","replace":true}`}, {1, `{"text":""}`}, {1, `{"replace":true}`},
		{1, `{"text":"a\u0000b"}`}, {1, "{\"text\":\"\xff\"}"}, {1, `{"text":"line\nline\ttab"}`},
		{2, `{"period":"15m"}`}, {2, `{"period":"1h30m"}`}, {2, `{"period":"30s"}`}, {2, `{"period":"25h"}`},
		{2, `{"period":" 2h "}`}, {2, `{"period":"-1m"}`}, {2, `{"period":15}`},
		{0, `{} {}`}, {1, `[`}, {2, `{"period":"1m","x":1}`}, {0, ``},
	} {
		f.Add(s.kind, []byte(s.body))
	}
	kinds := []string{reportReqNow, reportReqDraft, reportReqPeriod}
	f.Fuzz(func(t *testing.T, k uint8, body []byte) {
		kind := kinds[int(k)%len(kinds)]
		c, err := parseReportRequest(kind, body)
		if err != nil {
			var he *httpError
			if !errors.As(err, &he) || he.code != http.StatusBadRequest {
				t.Fatalf("%s %q: refused with %v, want a 400", kind, body, err)
			}
			return
		}
		switch kind {
		case reportReqNow:
			if !c.SendNow || c.Draft != nil || c.Period != 0 {
				t.Fatalf("now %q taken as %+v", body, c)
			}
		case reportReqDraft:
			if c.SendNow || c.Draft == nil || c.Period != 0 {
				t.Fatalf("draft %q taken as %+v", body, c)
			}
			d := *c.Draft
			if !utf8.ValidString(d) || utf8.RuneCountInString(d) > maxNoteText {
				t.Fatalf("draft %q taken: %q", body, d)
			}
			for _, r := range d {
				if unicode.IsControl(r) && r != '\n' && r != '\r' && r != '\t' {
					t.Fatalf("draft %q taken with the control character %U", body, r)
				}
			}
		case reportReqPeriod:
			if c.SendNow || c.Draft != nil || c.Period < minReportPeriod || c.Period > maxReportPeriod {
				t.Fatalf("period %q taken as %+v", body, c)
			}
		}
	})
}
