package email

import "github.com/prometheus/client_golang/prometheus"

// Results of a received email (hikyaku_email_replies_total's result label).
const (
	mailActed     = "acted"     // the reply acknowledged, resolved or escalated
	mailUnchanged = "unchanged" // a proven reply that found nothing to change (resolved, gone, a retry)
	mailIgnored   = "ignored"   // no person's answer to act on: automatic mail, no command…
	mailRefused   = "refused"   // an answer whose sender could not be proven
	mailDeferred  = "deferred"  // 451: the store or DNS could not answer; the relay retries
)

// Reasons (the reason label; also the timeline's and the log's). Bounded:
// every value is one of these constants.
const (
	reasonAutomatic    = "automatic"
	reasonBounce       = "bounce"
	reasonUnreadable   = "unreadable"
	reasonNotAReply    = "not_a_reply"
	reasonNoIncident   = "no_incident"
	reasonNoCommand    = "no_command"
	reasonWrongCommand = "command_not_by_email"
	reasonWrongID      = "other_incident"

	reasonTooLarge           = "too_large"
	reasonSenderMismatch     = "envelope_from_mismatch"
	reasonBadToken           = "bad_reply_address"
	reasonUnknownUser        = "unknown_user"
	reasonTokenUser          = "reply_address_of_another_user"
	reasonUnknownSender      = "unknown_sender"
	reasonNotEmailed         = "not_emailed"
	reasonDuplicateHeader    = "duplicate_header"
	reasonDKIMNone           = "dkim_none"
	reasonDKIMInvalid        = "dkim_invalid"
	reasonDKIMMisaligned     = "dkim_misaligned"
	reasonDKIMThreadUnsigned = "dkim_thread_unsigned"

	reasonStore = "store"
	reasonDNS   = "dns"
)

var mailReasons = map[string][]string{
	mailActed:     {""},
	mailUnchanged: {""},
	mailIgnored:   {reasonAutomatic, reasonBounce, reasonUnreadable, reasonNotAReply, reasonNoIncident, reasonNoCommand, reasonWrongCommand, reasonWrongID},
	mailRefused: {reasonTooLarge, reasonSenderMismatch, reasonBadToken, reasonUnknownUser, reasonTokenUser, reasonUnknownSender,
		reasonNotEmailed, reasonDuplicateHeader, reasonDKIMNone, reasonDKIMInvalid, reasonDKIMMisaligned, reasonDKIMThreadUnsigned},
	mailDeferred: {reasonStore, reasonDNS},
}

// Metrics count what the reply listener did. serve registers them whether
// or not it listens for mail, so dashboards and alerts see the series at 0.
type Metrics struct {
	replies         *prometheus.CounterVec
	sessions        prometheus.Gauge
	sessionsRefused prometheus.Counter
}

// NewMetrics registers the reply listener's metrics with reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		replies: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "hikyaku_email_replies_total",
			Help: "Mail received by the reply listener, by result (acted, unchanged, ignored, refused, deferred) and reason."},
			[]string{"result", "reason"}),
		sessions: prometheus.NewGauge(prometheus.GaugeOpts{Name: "hikyaku_smtp_sessions",
			Help: "SMTP connections to the reply listener open now."}),
		sessionsRefused: prometheus.NewCounter(prometheus.CounterOpts{Name: "hikyaku_smtp_sessions_refused_total",
			Help: "SMTP connections refused with 421 because the session limit was reached."}),
	}
	// Present at zero from the start, so a rate() sees the first refusal.
	for result, reasons := range mailReasons {
		for _, r := range reasons {
			m.replies.WithLabelValues(result, r)
		}
	}
	reg.MustRegister(m.replies, m.sessions, m.sessionsRefused)
	return m
}

// count adds one received mail to hikyaku_email_replies_total.
func (m *Metrics) count(result, reason string) { m.replies.WithLabelValues(result, reason).Inc() }
