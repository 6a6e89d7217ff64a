package main

import (
	"cmp"
	"log/slog"
	"slices"

	"github.com/hikyaku/hikyaku/channels"
	"github.com/hikyaku/hikyaku/channels/all"
	"github.com/hikyaku/hikyaku/channels/dryrun"
	"github.com/hikyaku/hikyaku/config"
)

// buildSenders makes one sender per registered channel from the configured providers,
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
		if dryRun {
			rec := dryrun.Sender{Log: log}
			out := map[string]channels.Sender{}
			for _, p := range all.Registry.Providers() {
				out[p.Name()] = rec
			}
			return out, nil
		}
		// ProviderProblems is empty: every provider a contact or a chat
		// channel uses is configured with its credential. One configured but
		// used by nobody is still built, so a later reload may use it.
		return all.Registry.Senders(cfg)
	}
}
