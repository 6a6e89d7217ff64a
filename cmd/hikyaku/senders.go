package main

import (
	"cmp"
	"fmt"
	"log/slog"
	"slices"

	"github.com/hikyaku/hikyaku/channels"
	"github.com/hikyaku/hikyaku/channels/dryrun"
	"github.com/hikyaku/hikyaku/channels/email"
	"github.com/hikyaku/hikyaku/channels/slack"
	"github.com/hikyaku/hikyaku/channels/template"
	"github.com/hikyaku/hikyaku/channels/twilio"
	"github.com/hikyaku/hikyaku/channels/webhook"
	"github.com/hikyaku/hikyaku/config"
)

// buildSenders makes one sender per channel from the configured providers,
// at start and at each reload. It refuses a config that serve must not run:
// a receiver whose credential is unset (every webhook would be 401), and,
// unless dryRun, a channel in use whose provider or credential is missing
// (its pages would go nowhere). In dry run every channel records and nothing
// is sent, whatever the providers say.
func buildSenders(log *slog.Logger, dryRun bool) func(cfg *config.Config) (map[string]channels.Sender, error) {
	return func(cfg *config.Config) (map[string]channels.Sender, error) {
		refused := append(config.Errors(nil), cfg.ReceiverProblems...)
		if !dryRun {
			refused = append(refused, cfg.ProviderProblems...)
		}
		if len(refused) > 0 {
			slices.SortStableFunc(refused, func(a, b config.Error) int {
				return cmp.Or(cmp.Compare(a.Line, b.Line), cmp.Compare(a.Column, b.Column))
			})
			return nil, refused
		}
		out := map[string]channels.Sender{}
		if dryRun {
			rec := dryrun.Sender{Log: log}
			for _, ch := range []config.Channel{config.ChannelSMS, config.ChannelVoice, config.ChannelEmail, config.ChannelSlack, config.ChannelWebhook} {
				out[string(ch)] = rec
			}
			return out, nil
		}
		// ProviderProblems is empty: every provider a contact or a chat
		// channel uses is configured with its credential. One configured but
		// used by nobody is still built, so a later reload may use it.
		if tw := cfg.Providers.Twilio; tw != nil {
			if _, ok := tw.AuthToken.Reveal(); ok {
				s, err := twilio.New(tw, cfg.Global.ExternalURL, twilio.WithStatusCallbackURL(twilio.StatusCallbackURL(cfg.Global.ExternalURL)))
				if err != nil {
					return nil, fmt.Errorf("twilio: %w", err)
				}
				out[string(config.ChannelSMS)], out[string(config.ChannelVoice)] = s.SMS, s.Voice
			}
		}
		if sm := cfg.Providers.SMTP; sm != nil {
			if _, ok := sm.Password.Reveal(); ok || sm.Username == "" {
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
		}
		ts, err := template.Parse(cfg.Templates.Loaded)
		if err != nil {
			return nil, fmt.Errorf("templates: %w", err)
		}
		out[string(config.ChannelWebhook)] = webhook.New(webhook.WithTemplates(ts))
		if sl := cfg.Providers.Slack; sl != nil {
			if _, ok := sl.BotToken.Reveal(); ok {
				s, err := slack.New(sl)
				if err != nil {
					return nil, fmt.Errorf("slack: %w", err)
				}
				out[string(config.ChannelSlack)] = s
			}
		}
		return out, nil
	}
}
