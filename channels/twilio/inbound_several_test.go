package twilio

import (
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/hikyaku/hikyaku/catalog"
	"github.com/hikyaku/hikyaku/channels"
)

// TestSeveralReplyFitsOneSMS: a bare "ack" from someone paged for many
// incidents lists as many ids as fit in one segment and says how many more.
func TestSeveralReplyFitsOneSMS(t *testing.T) {
	var ids []int64
	for i := range 40 {
		ids = append(ids, int64(1000+i))
	}
	for _, lang := range []string{"en", "ja"} {
		got := severalReply(catalog.For(lang), ids, channels.Ack)
		if n := Segments(got); n != 1 {
			t.Errorf("%s: %d segments: %q", lang, n, got)
		}
		if !strings.Contains(got, "1000, 1001") {
			t.Errorf("%s: oldest ids missing: %q", lang, got)
		}
		// Count the ids listed, independently: 4-digit numbers before the
		// "more" note (the example after it repeats the first).
		cut := map[string]string{"en": " (+", "ja": "（他"}[lang]
		head, tail, ok := strings.Cut(got, cut)
		listed := len(regexp.MustCompile(`\b1\d{3}\b`).FindAllString(head, -1))
		if !ok || !strings.HasPrefix(tail, strconv.Itoa(40-listed)) {
			t.Errorf("%s: %d listed, reply does not say %d more: %q", lang, listed, 40-listed, got)
		}
	}
	if got := severalReply(catalog.For("en"), []int64{3, 5}, channels.Ack); got != "Open: 3, 5. Reply with the id, e.g. '3 ack'." {
		t.Errorf("two ids: %q", got)
	}
}
