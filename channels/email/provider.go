package email

import (
	"github.com/hikyaku/hikyaku/channels"
	"github.com/hikyaku/hikyaku/config"
)

// Provider is the email channel, through providers.smtp: the first choice
// for stakeholder reports.
type Provider struct{}

func (Provider) Name() string                   { return string(config.ChannelEmail) }
func (Provider) Account() string                { return "smtp" }
func (Provider) ReportRank() int                { return 10 }
func (Provider) CheckContact(addr string) error { return config.CheckEmail(addr) }

// NewSender is cfg's SMTP sender, nil without providers.smtp or with its
// password unset; replies are signed with global.signing_key when set.
func (Provider) NewSender(cfg *config.Config) (channels.Sender, error) {
	sm := cfg.Providers.SMTP
	if sm == nil {
		return nil, nil
	}
	if _, ok := sm.Password.Reveal(); !ok && sm.Username != "" {
		return nil, nil
	}
	var opts []Option
	if key, ok := cfg.Global.SigningKey.Reveal(); ok {
		opts = append(opts, WithReplyKey([]byte(key)))
	}
	s, err := New(sm, opts...)
	if err != nil {
		return nil, err
	}
	return s, nil
}
