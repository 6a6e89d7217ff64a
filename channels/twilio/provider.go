package twilio

import (
	"log/slog"
	"sync"

	"github.com/hikyaku/hikyaku/channels"
	"github.com/hikyaku/hikyaku/config"
)

// SMSProvider is the sms channel: texts through providers.twilio, counted
// against the per-person limit.
type SMSProvider struct{}

// VoiceProvider is the voice channel: calls through providers.twilio. A
// call is not Written: it rings last and never carries a report.
type VoiceProvider struct{}

func (SMSProvider) Name() string                       { return string(config.ChannelSMS) }
func (SMSProvider) Account() string                    { return "twilio" }
func (SMSProvider) ReportRank() int                    { return 40 } // costs per message: the last written choice
func (SMSProvider) Metered() bool                      { return true }
func (SMSProvider) CheckContact(number string) error   { return config.CheckE164(number) }
func (VoiceProvider) Name() string                     { return string(config.ChannelVoice) }
func (VoiceProvider) Account() string                  { return "twilio" }
func (VoiceProvider) Metered() bool                    { return true }
func (VoiceProvider) CheckContact(number string) error { return config.CheckE164(number) }

// Routes are Twilio's endpoints (SMS replies, key presses, status
// callbacks): one account calls them all, so the sms provider serves them
// for voice too.
func (SMSProvider) Routes(r channels.Receiver, log *slog.Logger) []channels.Route {
	return Routes(r, InboundOptions{Log: log})
}

// NewSender is the SMS sender of cfg's Twilio account, nil without one.
func (SMSProvider) NewSender(cfg *config.Config) (channels.Sender, error) {
	s, err := accountSenders(cfg)
	if s == nil || err != nil {
		return nil, err
	}
	return s.SMS, nil
}

// NewSender is the voice sender of cfg's Twilio account, nil without one.
func (VoiceProvider) NewSender(cfg *config.Config) (channels.Sender, error) {
	s, err := accountSenders(cfg)
	if s == nil || err != nil {
		return nil, err
	}
	return s.Voice, nil
}

// accountSenders builds cfg's Twilio account when it has one with its
// credential: once per configuration, so SMS and calls share one account
// and one connection pool, as they did when one call built both.
func accountSenders(cfg *config.Config) (*Senders, error) {
	built.mu.Lock()
	defer built.mu.Unlock()
	if built.cfg == cfg {
		return built.s, built.err
	}
	built.cfg, built.s, built.err = cfg, nil, nil
	tw := cfg.Providers.Twilio
	if tw == nil {
		return nil, nil
	}
	if _, ok := tw.AuthToken.Reveal(); !ok {
		return nil, nil
	}
	built.s, built.err = New(tw, cfg.Global.ExternalURL, WithStatusCallbackURL(StatusCallbackURL(cfg.Global.ExternalURL)))
	return built.s, built.err
}

// built is the account of the configuration last asked for.
var built struct {
	mu  sync.Mutex
	cfg *config.Config
	s   *Senders
	err error
}
