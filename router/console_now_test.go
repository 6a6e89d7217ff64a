package router

import (
	"strings"
	"testing"
	"time"

	"github.com/hikyaku/hikyaku/catalog"
)

// The harness's clock is Wednesday 2026-01-07 14:00 JST; primary and
// secondary turn weekly from Monday 2026-01-05 10:00 Asia/Tokyo, and
// nights is never active, so policy empty-first has nobody all week.
func TestConsoleNowRendering(t *testing.T) {
	h := newHarness(t, testConfig)
	for _, tc := range []struct {
		lang string
		loc  *time.Location
		want []string
	}{
		{"en", time.FixedZone("JST", 9*3600), []string{
			"Times are in JST (JST).",
			"Rotation primary:</a> <strong>alice</strong> until 2026-01-12 10:00 JST<br><span class=\"muted\">next: bob from 2026-01-12 10:00 JST</span>",
			"Rotation secondary:</a> <strong>bob</strong> until 2026-01-12 10:00 JST",
			`<li class="gap"><a class="what" href="/console/calendar/nights">Rotation nights:</a> <strong>nobody on call</strong> and nobody within a year</li>`,
			"<strong>GAP</strong> escalation policy empty-first pages nobody from 2026-01-07 14:00 JST to 2026-01-14 14:00 JST",
		}},
		{"ja", mustZone(t, "America/New_York"), []string{
			"時刻は EST (America/New_York) です。",
			"ローテーション primary:</a> <strong>alice</strong> 2026-01-11 20:00 EST まで<br><span class=\"muted\">次: bob (2026-01-11 20:00 EST から)</span>",
			"<strong>空白</strong> エスカレーションポリシー empty-first は 2026-01-07 00:00 EST から 2026-01-14 00:00 EST まで誰も呼び出しません",
		}},
	} {
		v := consoleView{Lang: tc.lang, Now: buildNow(h.engine.Policies(), h.clock.Now(), catalog.For(tc.lang), tc.loc, "/console/calendar/")}
		var b strings.Builder
		if err := consolePage.Execute(&b, v); err != nil {
			t.Fatal(err)
		}
		for _, w := range tc.want {
			if !strings.Contains(b.String(), w) {
				t.Errorf("%s page lacks %q:\n%s", tc.lang, w, b.String())
			}
		}
	}
}

func mustZone(t *testing.T, name string) *time.Location {
	t.Helper()
	l, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return l
}
