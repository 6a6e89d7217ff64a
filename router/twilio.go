package router

import (
	"errors"
	"net/http"

	"github.com/hikyaku/hikyaku/channels"
	"github.com/hikyaku/hikyaku/channels/twilio"
)

// TwilioStatusURL is where Twilio reports the fate of each SMS and call. The
// callback token rides in the URL, which Twilio signs with the rest.
func TwilioStatusURL(externalURL string) func(m *channels.Message) string {
	return twilio.StatusCallbackURL(externalURL)
}

// twilioStatus takes Twilio's status callbacks: a message undelivered or a
// call not answered fails over to the person's next contact method at once.
// Anything not signed by Twilio with our auth token is refused with 403.
func (s *Server) twilioStatus(w http.ResponseWriter, r *http.Request) {
	cfg := s.Engine.Policies().Config()
	var token string
	if tw := cfg.Providers.Twilio; tw != nil {
		token, _ = tw.AuthToken.Reveal()
	}
	st, err := twilio.ParseStatus(r, token, cfg.Global.ExternalURL)
	switch {
	case errors.Is(err, twilio.ErrSignature):
		http.Error(w, "forbidden", http.StatusForbidden)
		return
	case err != nil:
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	if !st.Failed {
		// Twilio has the message or call: a replica taking it over after
		// its sender vanished must not send it again (reconcile.go).
		if err := s.Engine.DeliveryAccepted(r.Context(), r.URL.Query().Get("cb"), st.SID); err != nil && !errors.Is(err, ErrBadCallback) {
			s.Engine.log.Warn("twilio status callback: could not mark the message taken", "sid", st.SID, "err", err)
			http.Error(w, "try again", http.StatusServiceUnavailable)
			return
		}
	}
	if st.Failed {
		reason := st.Channel + " " + st.Status
		if st.ErrorCode != "" {
			reason += " (Twilio " + st.ErrorCode + ")"
		}
		if err := s.Engine.DeliveryFailed(r.Context(), r.URL.Query().Get("cb"), reason); err != nil {
			s.Engine.log.Warn("twilio status callback", "sid", st.SID, "err", err)
			// 5xx makes Twilio retry the callback; a token we cannot read never will be readable.
			if errors.Is(err, ErrBadCallback) {
				http.Error(w, "bad callback token", http.StatusBadRequest)
				return
			}
			http.Error(w, "try again", http.StatusServiceUnavailable)
			return
		}
	}
	w.WriteHeader(http.StatusNoContent)
}
