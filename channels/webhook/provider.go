package webhook

import (
	"fmt"

	"github.com/hikyaku/hikyaku/channels"
	"github.com/hikyaku/hikyaku/channels/template"
	"github.com/hikyaku/hikyaku/config"
)

// Provider is the webhook channel: a JSON post to the person's own URL,
// which needs no account.
type Provider struct{}

func (Provider) Name() string                  { return string(config.ChannelWebhook) }
func (Provider) Account() string               { return "webhook" }
func (Provider) NoAccount() bool               { return true }
func (Provider) ReportRank() int               { return 30 }
func (Provider) CheckContact(raw string) error { return config.CheckHTTPURL(raw) }

// NewSender posts with cfg's templates.
func (Provider) NewSender(cfg *config.Config) (channels.Sender, error) {
	ts, err := template.Parse(cfg.Templates.Loaded)
	if err != nil {
		return nil, fmt.Errorf("templates: %w", err)
	}
	return New(WithTemplates(ts)), nil
}
