package main

import (
	"fmt"
	"log/slog"

	"github.com/hikyaku/hikyaku/channels"
	"github.com/hikyaku/hikyaku/channels/email"
	"github.com/hikyaku/hikyaku/channels/record"
	"github.com/hikyaku/hikyaku/channels/slack"
	"github.com/hikyaku/hikyaku/channels/template"
	"github.com/hikyaku/hikyaku/channels/twilio"
	"github.com/hikyaku/hikyaku/channels/webhook"
	"github.com/hikyaku/hikyaku/config"
	"github.com/hikyaku/hikyaku/router"
)

// buildSenders makes one sender per channel from the configured providers.
// A channel whose provider is not configured records and logs what it would
// have sent, so a demo shows its pages and a real setup sees them in its log.
func buildSenders(log *slog.Logger) func(cfg *config.Config) (map[string]channels.Sender, error) {
	return func(cfg *config.Config) (map[string]channels.Sender, error) {
		rec := &record.Sender{Log: log}
		out := map[string]channels.Sender{}
		for _, ch := range []config.Channel{config.ChannelSMS, config.ChannelVoice, config.ChannelEmail, config.ChannelSlack, config.ChannelWebhook} {
			out[string(ch)] = rec
		}
		// A provider whose secret is not set (the example config on a fresh
		// machine) records instead of failing every send: the warning is in the
		// log at start, and `hikyaku check` lists it.
		unset := func(provider string, sec config.Secret) bool {
			if _, ok := sec.Reveal(); ok {
				return false
			}
			log.Warn("provider credentials not set: its messages are recorded in the log, not sent", "provider", provider)
			return true
		}
		if tw := cfg.Providers.Twilio; tw != nil && !unset("twilio", tw.AuthToken) {
			s, err := twilio.New(tw, cfg.Global.ExternalURL, twilio.WithStatusCallbackURL(router.TwilioStatusURL(cfg.Global.ExternalURL)))
			if err != nil {
				return nil, fmt.Errorf("twilio: %w", err)
			}
			out[string(config.ChannelSMS)], out[string(config.ChannelVoice)] = s.SMS, s.Voice
		}
		if sm := cfg.Providers.SMTP; sm != nil && (sm.Username == "" || !unset("smtp", sm.Password)) {
			var opts []email.Option
			if key, ok := cfg.Global.SigningKey.Reveal(); ok {
				opts = append(opts, email.WithReplyKey([]byte(key)))
			}
			s, err := email.New(sm, opts...)
			if err != nil {
				return nil, fmt.Errorf("smtp: %w", err)
			}
			out[string(config.ChannelEmail)] = s
		}
		ts, err := template.Parse(cfg.Templates.Loaded)
		if err != nil {
			return nil, fmt.Errorf("templates: %w", err)
		}
		out[string(config.ChannelWebhook)] = webhook.New(webhook.WithTemplates(ts))
		if sl := cfg.Providers.Slack; sl != nil && !unset("slack", sl.BotToken) {
			s, err := slack.New(sl)
			if err != nil {
				return nil, fmt.Errorf("slack: %w", err)
			}
			out[string(config.ChannelSlack)] = s
		}
		return out, nil
	}
}
