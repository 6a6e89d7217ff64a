package twilio

import (
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/hikyaku/hikyaku/channels"
	"github.com/hikyaku/hikyaku/config"
)

// maxForm bounds an inbound webhook's body: an SMS is at most 1600
// characters, and Twilio's other parameters are a few hundred bytes.
const maxForm = 64 << 10

// ReplayKeep is how long an SMS reply's MessageSid and a key press's
// CallSid are remembered: Twilio signs no timestamp, so a captured request
// verifies forever, and 30 days bounds the replay record's size.
const ReplayKeep = 30 * 24 * time.Hour

// InboundOptions are what the inbound endpoints need beside the engine.
type InboundOptions struct {
	// Log takes the endpoints' lines; nil discards them.
	Log *slog.Logger
}

// inbound serves what Twilio posts: SMS replies, key presses, status callbacks.
type inbound struct {
	r   channels.Receiver
	log *slog.Logger
}

// Routes are the endpoints Twilio calls under global.external_url, to be
// served on the public listener.
func Routes(r channels.Receiver, opts InboundOptions) []channels.Route {
	log := opts.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	in := &inbound{r: r, log: log}
	return []channels.Route{
		{Pattern: "POST " + StatusPath, MaxBody: maxForm, Handler: http.HandlerFunc(in.status)},
		{Pattern: "POST " + InboundSMSPath, MaxBody: maxForm, Handler: http.HandlerFunc(in.sms)},
		{Pattern: "POST " + GatherPath, MaxBody: maxForm, Handler: http.HandlerFunc(in.gather)},
	}
}

func authToken(cfg *config.Config) string {
	if tw := cfg.Providers.Twilio; tw != nil {
		tok, _ := tw.AuthToken.Reveal()
		return tok
	}
	return ""
}

// phoneOwner is the user whose SMS number is number, else the one whose
// voice number is; nil when nobody's is.
func phoneOwner(r channels.Receiver, number string) *config.User {
	if us := r.Owners(string(config.ChannelSMS), number); len(us) > 0 {
		return us[0]
	}
	if us := r.Owners(string(config.ChannelVoice), number); len(us) > 0 {
		return us[0]
	}
	return nil
}

// userName is id's display name, id itself when it has none.
func userName(cfg *config.Config, id string) string {
	if u := cfg.User(id); u != nil && u.Name != "" {
		return u.Name
	}
	return id
}

func writeTwiML(w http.ResponseWriter, doc string, err error) {
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", ContentType)
	fmt.Fprint(w, doc)
}
