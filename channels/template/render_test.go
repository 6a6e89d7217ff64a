package template

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hikyaku/hikyaku/channels"
	"github.com/hikyaku/hikyaku/config"
)

const (
	summaryJA = "決済APIのエラー率が5%を超えています"
	runbook   = "https://runbooks.example.com/payments/high-error-rate"
	dashboard = "https://grafana.example.com/d/checkout"
)

var tokyo = func() *time.Location {
	loc, err := time.LoadLocation("Asia/Tokyo")
	if err != nil {
		panic(err)
	}
	return loc
}()

// message is a message about a real Alertmanager payload, as the router builds it.
func message(t testing.TB, file, channel string, kind channels.Kind, lang string) *channels.Message {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", file))
	if err != nil {
		t.Fatal(err)
	}
	inc := channels.Incident{ID: 12, Status: "open", Severity: "critical", Department: "エンジニアリング",
		DepartmentID: "engineering", Step: 1, CreatedAt: time.Date(2026, 11, 23, 17, 27, 8, 0, time.UTC),
		URL: "https://hikyaku.example.com/api/v1/incidents/12", FiringAlerts: 2}
	switch kind {
	case channels.KindReport:
		inc.Step, inc.Status, inc.AckedBy = 0, "acked", "tanaka"
		// The router puts the time in the recipient's zone.
		inc.NextUpdate = time.Date(2026, 11, 23, 18, 0, 0, 0, time.UTC).In(tokyo)
	case channels.KindResolved:
		inc.Step, inc.Status, inc.FiringAlerts, inc.ResolvedAlerts = 0, "resolved", 0, 2
	}
	return &channels.Message{Channel: channel, Kind: kind, IncidentID: 12, To: "x", Language: lang, Data: data, Incident: inc}
}

func render(t *testing.T, ts *Templates, m *channels.Message) (string, string) {
	t.Helper()
	subject, text, err := ts.Render(m)
	if err != nil {
		t.Fatalf("Render(%s %s %s): %v", m.Channel, m.Kind, m.Language, err)
	}
	if subject == "" || text == "" {
		t.Fatalf("Render(%s %s %s): empty subject %q or text %q", m.Channel, m.Kind, m.Language, subject, text)
	}
	return subject, text
}

func TestPagesSayWhatHowBadWhereAndHowToAck(t *testing.T) {
	ackHints := map[string]map[string]string{
		"sms":     {"ja": "「12 ack」と返信", "en": `Reply "12 ack"`},
		"email":   {"ja": "「12 ack」と返信", "en": `Reply "12 ack"`},
		"voice":   {"ja": "1を押して", "en": "Press 1"},
		"slack":   {"ja": "", "en": ""}, // the buttons are the hint
		"webhook": {"ja": "incidents/12/ack", "en": "incidents/12/ack"},
	}
	for ch, hints := range ackHints {
		for lang, hint := range hints {
			t.Run(ch+"/"+lang, func(t *testing.T) {
				subject, text := render(t, Default(), message(t, "firing-two-alerts-ja.json", ch, channels.KindPage, lang))
				for _, want := range []string{summaryJA, hint} {
					if !strings.Contains(text, want) {
						t.Errorf("text lacks %q:\n%s", want, text)
					}
				}
				if !strings.Contains(subject, "#12") || !strings.Contains(subject, "CRITICAL") || !strings.Contains(subject, "エンジニアリング") {
					t.Errorf("subject lacks the id, severity or department: %q", subject)
				}
				if ch != "voice" && ch != "slack" && !strings.Contains(text, "12") { // Slack: in the blocks
					t.Errorf("text lacks the incident id:\n%s", text)
				}
				if ch == "voice" && strings.Contains(text, "http") {
					t.Errorf("a voice text must not read links aloud:\n%s", text)
				}
				if (ch == "sms" || ch == "email" || ch == "webhook") && !strings.Contains(text, runbook) {
					t.Errorf("text lacks the runbook link:\n%s", text)
				}
				if i := strings.LastIndexByte(text, '\n'); ch == "sms" && (i < 0 || !strings.Contains(text[i:], hint) || !strings.Contains(text[i:], "12")) {
					t.Errorf("an SMS page must end with a line of its own with the ack hint and id (the part never cut):\n%s", text)
				}
				if (ch == "email" || ch == "webhook") && !strings.Contains(text, dashboard) {
					t.Errorf("text lacks the dashboard of the first alert:\n%s", text)
				}
			})
		}
	}
}

func TestLongTextsListEachAlertByWhatTellsThemApart(t *testing.T) {
	_, text := render(t, Default(), message(t, "firing-two-alerts-ja.json", "email", channels.KindPage, "ja"))
	for _, want := range []string{"api-1:8080: checkout-api の 5xx 比率が直近5分で 7.3% (閾値 5%)。", "api-2:8080", "発生中のアラート2件"} {
		if !strings.Contains(text, want) {
			t.Errorf("text lacks %q:\n%s", want, text)
		}
	}
}

func TestNoLinkLinesWithoutLinks(t *testing.T) {
	m := message(t, "firing-one-alert-en.json", "email", channels.KindPage, "en")
	m.Incident.URL, m.Incident.FiringAlerts = "", 1
	_, text := render(t, Default(), m)
	for _, absent := range []string{"Runbook:", "Dashboard:", "Incident:"} {
		if strings.Contains(text, absent) {
			t.Errorf("text has %q though the alert has none:\n%s", absent, text)
		}
	}
	if !strings.Contains(text, "Disk on db-1 will fill within 4 hours") || !strings.Contains(text, "1 alert firing") {
		t.Errorf("text lacks the summary or the count:\n%s", text)
	}
}

func TestReportsSayStatusAndNextUpdateInTheRecipientsZone(t *testing.T) {
	for lang, want := range map[string][]string{
		"ja": {"対応中 (担当: tanaka)", "次回の報告", "11月24日 03:00 (JST)"},
		"en": {"Acknowledged by tanaka", "Next update", "Tue 24 Nov 03:00 JST"},
	} {
		for _, ch := range []string{"sms", "email", "slack"} {
			_, text := render(t, Default(), message(t, "firing-two-alerts-ja.json", ch, channels.KindReport, lang))
			for _, w := range want {
				if !strings.Contains(text, w) {
					t.Errorf("%s %s report lacks %q:\n%s", ch, lang, w, text)
				}
			}
		}
	}
}

func TestResolvedSaysSo(t *testing.T) {
	subject, text := render(t, Default(), message(t, "resolved-two-alerts-ja.json", "email", channels.KindResolved, "ja"))
	if !strings.Contains(subject, "解決") || !strings.Contains(text, "解決しました: "+summaryJA) || !strings.Contains(text, "api-2:8080") {
		t.Errorf("resolved report:\n%s\n%s", subject, text)
	}
}

func TestUnknownLanguageIsEnglish(t *testing.T) {
	_, text := render(t, Default(), message(t, "firing-one-alert-en.json", "sms", channels.KindPage, "fr"))
	if !strings.Contains(text, `Reply "12 ack"`) {
		t.Errorf("want the English text, got:\n%s", text)
	}
}

func parseFiles(t *testing.T, texts ...string) *Templates {
	t.Helper()
	var files []config.TemplateFile
	for i, s := range texts {
		files = append(files, config.TemplateFile{Path: filepath.Join("etc", string(rune('a'+i))+".tmpl"), Text: s})
	}
	ts, err := Parse(files)
	if err != nil {
		t.Fatal(err)
	}
	return ts
}

func TestAFileRedefinesOneTemplateOnly(t *testing.T) {
	ts := parseFiles(t, `{{ define "hikyaku.sms.page.ja" }}至急 #{{ .Incident.ID }} {{ .Title }} {{ index .Runbooks 0 }}{{ end }}`)
	_, ja := render(t, ts, message(t, "firing-two-alerts-ja.json", "sms", channels.KindPage, "ja"))
	if want := "至急 #12 " + summaryJA + " " + runbook; ja != want {
		t.Errorf("overridden ja SMS = %q, want %q", ja, want)
	}
	_, en := render(t, ts, message(t, "firing-two-alerts-ja.json", "sms", channels.KindPage, "en"))
	if !strings.Contains(en, `Reply "12 ack"`) {
		t.Errorf("the English SMS should keep the built-in text, got %q", en)
	}
}

func TestAnEnglishOnlyOverrideCoversJapaneseRecipientsOfOtherChannels(t *testing.T) {
	// hikyaku.email.page.en is more specific than hikyaku.page.ja? No: the
	// language comes first, so Japanese readers keep Japanese text.
	ts := parseFiles(t, `{{ define "hikyaku.email.page.en" }}custom{{ end }}`)
	_, ja := render(t, ts, message(t, "firing-two-alerts-ja.json", "email", channels.KindPage, "ja"))
	if ja == "custom" {
		t.Errorf("a Japanese reader got the English override")
	}
	_, en := render(t, ts, message(t, "firing-two-alerts-ja.json", "email", channels.KindPage, "en"))
	if en != "custom" {
		t.Errorf("English email = %q, want the override", en)
	}
}

func TestNames(t *testing.T) {
	got := strings.Join(Names("sms", "page", "ja"), " ")
	if want := "hikyaku.sms.page.ja hikyaku.page.ja hikyaku.sms.page.en hikyaku.page.en"; got != want {
		t.Errorf("Names = %s, want %s", got, want)
	}
	if got := strings.Join(Names(`x" }}{{ now`, "page", "en"), " "); got != "hikyaku.page.en" {
		t.Errorf("a malformed channel must not reach a template name: %s", got)
	}
}

func TestAFailingOverrideFallsBackToTheBuiltInText(t *testing.T) {
	ts := parseFiles(t, `{{ define "hikyaku.sms.page.en" }}{{ .Incident.Severty }}{{ end }}`)
	_, text, err := ts.Render(message(t, "firing-one-alert-en.json", "sms", channels.KindPage, "en"))
	var fe *FallbackError
	if !errors.As(err, &fe) || fe.Name != "hikyaku.sms.page.en" {
		t.Fatalf("err = %v, want a FallbackError naming the template", err)
	}
	if !strings.Contains(text, `Reply "12 ack"`) {
		t.Errorf("fallback text = %q, want the built-in one", text)
	}
}

func TestABrokenFileIsRefused(t *testing.T) {
	_, err := Parse([]config.TemplateFile{{Path: "/etc/hikyaku/x.tmpl", Text: `{{ define "a" }}{{ nosuchfunc }}{{ end }}`}})
	if err == nil || !strings.Contains(err.Error(), "/etc/hikyaku/x.tmpl") || !strings.Contains(err.Error(), "nosuchfunc") {
		t.Errorf("err = %v, want the file and the unknown function", err)
	}
}

func TestNewReadsGlobs(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "a.tmpl"), []byte(`{{ define "hikyaku.sms.page.en" }}from a{{ end }}`), 0o600); err != nil {
		t.Fatal(err)
	}
	ts, err := New([]string{filepath.Join(dir, "*.tmpl"), filepath.Join(dir, "none-*.tmpl")})
	if err != nil {
		t.Fatal(err)
	}
	if _, text := render(t, ts, message(t, "firing-one-alert-en.json", "sms", channels.KindPage, "en")); text != "from a" {
		t.Errorf("text = %q", text)
	}
}

func TestUnreadableDataStillPages(t *testing.T) {
	m := message(t, "firing-one-alert-en.json", "sms", channels.KindPage, "ja")
	m.Data = []byte("{not json")
	_, text, err := Default().Render(m)
	var fe *FallbackError
	if !errors.As(err, &fe) {
		t.Fatalf("err = %v, want a FallbackError", err)
	}
	if !strings.Contains(text, "「12 ack」と返信") {
		t.Errorf("text = %q, want the id and the ack hint", text)
	}
}

func TestManyAlertsAreCapped(t *testing.T) {
	m := message(t, "firing-one-alert-en.json", "email", channels.KindPage, "en")
	var msg map[string]any
	if err := json.Unmarshal(m.Data, &msg); err != nil {
		t.Fatal(err)
	}
	one := msg["alerts"].([]any)[0].(map[string]any)
	var alerts []any
	for i := range 25 {
		a := map[string]any{}
		for k, v := range one {
			a[k] = v
		}
		a["labels"] = map[string]any{"alertname": "DiskWillFillIn4Hours", "instance": "db-" + string(rune('a'+i))}
		alerts = append(alerts, a)
	}
	msg["alerts"] = alerts
	msg["commonLabels"] = map[string]any{"alertname": "DiskWillFillIn4Hours"}
	m.Data, _ = json.Marshal(msg)
	_, text := render(t, Default(), m)
	if n := strings.Count(text, "\n- db-"); n != maxItems {
		t.Errorf("%d alerts listed, want %d:\n%s", n, maxItems, text)
	}
	if !strings.Contains(text, "and 15 more") {
		t.Errorf("text does not say how many were left out:\n%s", text)
	}
}

func TestRenderBodyMakesJSON(t *testing.T) {
	m := message(t, "firing-two-alerts-ja.json", "webhook", channels.KindPage, "ja")
	m.Subject, m.Text = "件名", "本文 \"引用\"\n二行目"
	out, err := Default().RenderBody(m, `{"text": {{ .Text | toJson }}, "id": {{ .Incident.ID }}, "title": {{ .Title | toJson }}}`)
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		Text, Title string
		ID          int
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if got.Text != m.Text || got.Title != summaryJA || got.ID != 12 {
		t.Errorf("body = %+v", got)
	}
}

func BenchmarkRender(b *testing.B) {
	m := message(b, "firing-two-alerts-ja.json", "email", channels.KindPage, "ja")
	ts := Default()
	for b.Loop() {
		if _, _, err := ts.Render(m); err != nil {
			b.Fatal(err)
		}
	}
}

func TestPagesListTheirLinksInTheReadersLanguage(t *testing.T) {
	for lang, want := range map[string][]string{
		"en": {"Acknowledge: https://h.example/act/a", "Resolve: https://h.example/act/r", "Escalate: https://h.example/act/e"},
		"ja": {"了解（エスカレーション停止）: https://h.example/act/a", "解決: https://h.example/act/r", "エスカレーション: https://h.example/act/e"},
	} {
		m := message(t, "firing-one-alert-en.json", "email", channels.KindPage, lang)
		m.Links = map[string]string{"ack": "https://h.example/act/a", "resolve": "https://h.example/act/r", "escalate": "https://h.example/act/e"}
		_, text := render(t, Default(), m)
		for _, w := range want {
			if !strings.Contains(text, w) {
				t.Errorf("%s page lacks %q:\n%s", lang, w, text)
			}
		}
		m.Links = nil
		if _, text := render(t, Default(), m); strings.Contains(text, "/act/") {
			t.Errorf("%s page without links shows one:\n%s", lang, text)
		}
	}
}

func TestSendersOwnAckHint(t *testing.T) {
	m := &channels.Message{Channel: "push", Kind: channels.KindPage, Language: "en",
		Incident: channels.Incident{ID: 12, Severity: "critical"}, AckHint: "Press Ack on the notification"}
	_, text, err := Default().Render(m)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(text, "Incident #12: Press Ack on the notification.") {
		t.Errorf("text = %q: want the sender's hint", text)
	}
	m.AckHint = ""
	if _, text, _ = Default().Render(m); !strings.Contains(text, "Incident #12: Acknowledge: POST /api/v1/incidents/12/ack.") {
		t.Errorf("text = %q: want the built-in hint without the sender's", text)
	}
}
