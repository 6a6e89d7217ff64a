package slack

import (
	"fmt"
	"log/slog"
	"regexp"

	"github.com/hikyaku/hikyaku/channels"
	"github.com/hikyaku/hikyaku/config"
)

// Provider is the slack channel, through providers.slack: a direct message
// to the person, rewritten once the incident is acked or resolved.
type Provider struct{}

// slackUserRe is a Slack user id: U… or W…, upper-case alphanumerics.
var slackUserRe = regexp.MustCompile(`^[UW][A-Z0-9]{2,}$`)

func (Provider) Name() string    { return string(config.ChannelSlack) }
func (Provider) Account() string { return "slack" }
func (Provider) ReportRank() int { return 20 }

// CheckContact refuses what is not a Slack user id (a name, an @handle).
func (Provider) CheckContact(id string) error {
	if !slackUserRe.MatchString(id) {
		return fmt.Errorf("invalid Slack user id %q: it looks like U012AB3CD", id)
	}
	return nil
}

// Routes is Slack's interactions endpoint (button presses).
func (Provider) Routes(r channels.Receiver, log *slog.Logger) []channels.Route {
	return Routes(r, InboundOptions{Log: log})
}

// NewSender is cfg's Slack sender, nil without providers.slack or with its bot token unset.
func (Provider) NewSender(cfg *config.Config) (channels.Sender, error) {
	sl := cfg.Providers.Slack
	if sl == nil {
		return nil, nil
	}
	if _, ok := sl.BotToken.Reveal(); !ok {
		return nil, nil
	}
	s, err := New(sl)
	if err != nil {
		return nil, err
	}
	return s, nil
}
