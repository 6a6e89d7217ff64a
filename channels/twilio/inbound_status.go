package twilio

import (
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/hikyaku/hikyaku/channels"
)

// StatusCallbackURL is where Twilio reports the fate of each SMS and call
// (WithStatusCallbackURL). The message's callback token rides in the URL,
// which Twilio signs with the rest, so it cannot be forged.
func StatusCallbackURL(externalURL string) func(m *channels.Message) string {
	return func(m *channels.Message) string {
		if externalURL == "" {
			return ""
		}
		return strings.TrimRight(externalURL, "/") + StatusPath + "?cb=" + url.QueryEscape(m.Callback)
	}
}

// status takes Twilio's status callbacks: a message undelivered or a call
// not answered fails over to the person's next contact method at once.
// Anything not signed by Twilio with our auth token is refused with 403.
func (in *inbound) status(w http.ResponseWriter, r *http.Request) {
	cfg := in.r.Config()
	st, err := ParseStatus(r, authToken(cfg), cfg.Global.ExternalURL)
	switch {
	case errors.Is(err, ErrSignature):
		http.Error(w, "forbidden", http.StatusForbidden)
		return
	case err != nil:
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	token := r.URL.Query().Get("cb")
	// Twilio has the message or call, whatever became of it: a replica
	// taking it over after its sender vanished must not send it again.
	if err := in.r.DeliveryAccepted(r.Context(), token, st.SID); err != nil && !errors.Is(err, channels.ErrBadCallback) {
		in.log.Warn("twilio status callback: could not mark the message taken", "sid", st.SID, "err", err)
		http.Error(w, "try again", http.StatusServiceUnavailable)
		return
	}
	if !st.Failed {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	reason := st.Channel + " " + st.Status
	if st.ErrorCode != "" {
		reason += " (Twilio " + st.ErrorCode + ")"
	}
	if err := in.r.DeliveryFailed(r.Context(), token, reason); err != nil {
		in.log.Warn("twilio status callback", "sid", st.SID, "err", err)
		// 5xx makes Twilio retry the callback; a token we cannot read never will be readable.
		if errors.Is(err, channels.ErrBadCallback) {
			http.Error(w, "bad callback token", http.StatusBadRequest)
			return
		}
		http.Error(w, "try again", http.StatusServiceUnavailable)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
