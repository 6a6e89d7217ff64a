package template

import (
	"errors"
	"strconv"
	"strings"
	"testing"

	"github.com/hikyaku/hikyaku/channels"
)

// FuzzRender feeds arbitrary Alertmanager JSON to every built-in template:
// no input may panic or leave a page without its incident id. Seeds, the
// real payloads among them, are in testdata/fuzz/FuzzRender.
func FuzzRender(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte, channel, kind, lang string) {
		switch kind {
		case "page", "report", "resolved":
		default:
			kind = "page"
		}
		m := &channels.Message{Channel: channel, Kind: channels.Kind(kind), Language: lang, Data: data,
			Incident: channels.Incident{ID: 4242, Status: "open", Severity: "critical"}}
		subject, text, err := Default().Render(m)
		var fe *FallbackError
		if err != nil && !errors.As(err, &fe) {
			t.Fatalf("Render: %v", err)
		}
		id := strconv.Itoa(4242)
		if !strings.Contains(subject, id) {
			t.Errorf("subject lacks the id: %q", subject)
		}
		if kind == "page" && channel != "slack" && !strings.Contains(text, id) {
			t.Errorf("page text lacks the id: %q", text)
		}
	})
}
