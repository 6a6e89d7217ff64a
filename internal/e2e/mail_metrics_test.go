package e2e

import (
	"strings"
	"testing"
)

// TestEmailListenerMetricsFromTheStart: a daemon with no SMTP listener still
// exposes the reply listener's series at 0 (serve registers them itself, the
// listener living in channels/email), and the panic counter has where="smtp",
// so a dashboard or an alert sees the first event.
func TestEmailListenerMetricsFromTheStart(t *testing.T) {
	d := startDaemon(t, "embedded", writeConfig(t), "--data-dir", t.TempDir())
	_, body := scrape(t, d.Addr)
	for _, name := range []string{"hikyaku_email_replies_total", "hikyaku_smtp_sessions", "hikyaku_smtp_sessions_refused_total"} {
		if v, ok := sample(t, body, name); !ok || v != 0 {
			t.Errorf("%s = %v (present %v), want 0 from the start", name, v, ok)
		}
	}
	for _, series := range []string{`hikyaku_email_replies_total{reason="dkim_none",result="refused"} 0`, `hikyaku_panics_total{where="smtp"} 0`} {
		if !strings.Contains(body, series) {
			t.Errorf("/metrics lacks %s:\n%s", series, grepLines(body, strings.SplitN(series, "{", 2)[0]))
		}
	}
}
