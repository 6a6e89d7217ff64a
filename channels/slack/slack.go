// Package slack posts pages and reports to Slack users and channels as Block
// Kit messages with Ack, Resolve and Escalate buttons, updates them, and takes the presses.
package slack

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/slack-go/slack"

	"github.com/hikyaku/hikyaku/channels"
	"github.com/hikyaku/hikyaku/config"
)

// Sender posts with the bot token. It is safe for concurrent use.
type Sender struct {
	api *slack.Client
}

// Option adjusts a Sender.
type Option func(*[]slack.Option)

// WithHTTPClient sends through c (tests, proxies). Its timeout, if any,
// adds to the context deadline the engine gives each send.
func WithHTTPClient(c *http.Client) Option {
	return func(o *[]slack.Option) { *o = append(*o, slack.OptionHTTPClient(c)) }
}

// New makes a Sender from providers.slack.
func New(cfg *config.Slack, opts ...Option) (*Sender, error) {
	if cfg == nil {
		return nil, errors.New("slack: providers.slack is not configured")
	}
	token, ok := cfg.BotToken.Reveal()
	if !ok || token == "" {
		return nil, errors.New("slack: providers.slack.bot_token is not set")
	}
	apiURL := cfg.APIURL
	if apiURL == "" {
		apiURL = config.DefaultSlackAPIURL
	}
	if !strings.HasSuffix(apiURL, "/") {
		apiURL += "/" // slack-go appends method names to it
	}
	so := []slack.Option{slack.OptionAPIURL(apiURL)}
	for _, o := range opts {
		o(&so)
	}
	return &Sender{api: slack.New(token, so...)}, nil
}

// Send posts m to m.To, a user id (the bot's DM with them) or a channel id.
// The receipt is "channel/ts", what Update needs.
func (s *Sender) Send(ctx context.Context, m *channels.Message) (channels.Receipt, error) {
	if m.Ephemeral != "" {
		return s.ephemeral(ctx, m)
	}
	opts := []slack.MsgOption{slack.MsgOptionText(fallbackText(m), false), slack.MsgOptionBlocks(Blocks(m)...)}
	if m.Thread != "" {
		opts = append(opts, slack.MsgOptionTS(m.Thread))
	}
	if md, ok := metadata(m); ok {
		opts = append(opts, slack.MsgOptionMetadata(md))
	}
	channel, ts, err := s.api.PostMessageContext(ctx, m.To, opts...)
	if err != nil {
		return channels.Receipt{}, classify(fmt.Errorf("slack chat.postMessage to %s: %w", m.To, err))
	}
	return channels.Receipt{ProviderID: channel + "/" + ts}, nil
}

// ephemeral shows m's text to m.Ephemeral alone in m.To (in the thread
// m.Thread when set): an answer to one person that the others in the
// conversation need not see. Slack does not keep it; the receipt names it
// all the same.
func (s *Sender) ephemeral(ctx context.Context, m *channels.Message) (channels.Receipt, error) {
	opts := []slack.MsgOption{slack.MsgOptionText(escape(m.Text), false)}
	if m.Thread != "" {
		opts = append(opts, slack.MsgOptionTS(m.Thread))
	}
	ts, err := s.api.PostEphemeralContext(ctx, m.To, m.Ephemeral, opts...)
	if err != nil {
		return channels.Receipt{}, classify(fmt.Errorf("slack chat.postEphemeral to %s in %s: %w", m.Ephemeral, m.To, err))
	}
	return channels.Receipt{ProviderID: m.To + "/" + ts}, nil
}

// Update rewrites the message Send posted (providerID is its receipt) to
// m's incident as it is now: once acknowledged or resolved the buttons go
// and the status shows who acted.
func (s *Sender) Update(ctx context.Context, providerID string, m *channels.Message) error {
	channel, ts, ok := strings.Cut(providerID, "/")
	if !ok || channel == "" || ts == "" {
		return channels.Permanent("", fmt.Errorf("slack chat.update: %q is not a channel/ts receipt", providerID))
	}
	_, _, _, err := s.api.UpdateMessageContext(ctx, channel, ts,
		slack.MsgOptionText(fallbackText(m), false), slack.MsgOptionBlocks(Blocks(m)...))
	if err != nil {
		return classify(fmt.Errorf("slack chat.update %s: %w", providerID, err))
	}
	return nil
}

// ShowsRoles says a page's context line names the incident's role holders
// (Blocks), so the engine rewrites the pages when they change.
func (s *Sender) ShowsRoles() bool { return true }

// fallbackText is what notifications and old clients show instead of the blocks.
func fallbackText(m *channels.Message) string {
	if m.Subject != "" {
		return escape(m.Subject)
	}
	return escape(m.Text)
}

// transient are Slack's error codes for its own trouble: trying later helps.
var transient = map[string]bool{
	"ratelimited":         true,
	"internal_error":      true,
	"fatal_error":         true,
	"service_unavailable": true,
	"request_timeout":     true,
	"team_added_to_org":   true,
}

// classify sorts err into the engine's two classes, each marked with its
// reason. Any other ok:false answer (channel_not_found, not_in_channel,
// invalid_auth, account_inactive, user_not_found, invalid_blocks…) says the
// same request will fail again.
func classify(err error) error {
	var rl *slack.RateLimitedError
	var sc slack.StatusCodeError
	var se slack.SlackErrorResponse
	switch {
	case errors.As(err, &rl):
		return channels.WithReason(channels.ReasonRateLimited, err)
	case errors.As(err, &sc):
		r := channels.ReasonForStatus(sc.Code)
		if sc.Code >= 500 || sc.Code == http.StatusTooManyRequests || sc.Code == http.StatusRequestTimeout {
			return channels.WithReason(r, err)
		}
		if sc.Code == http.StatusUnauthorized || sc.Code == http.StatusForbidden {
			return channels.WithReason(channels.ReasonAuth, channels.AuthFailure(strconv.Itoa(sc.Code), err))
		}
		return channels.WithReason(r, channels.Permanent(strconv.Itoa(sc.Code), err))
	case errors.As(err, &se):
		r := errorReason(se.Err)
		if transient[se.Err] {
			return channels.WithReason(r, err)
		}
		if tokenRefused[se.Err] {
			return channels.WithReason(channels.ReasonAuth, channels.AuthFailure(se.Err, err))
		}
		return channels.WithReason(r, channels.Permanent(se.Err, err))
	}
	return err // connection refused, timeouts, the context's deadline: channels.ReasonOf reads them
}

// authErrors are Slack's error codes whose reason is auth: the token is
// refused, or lacks a permission. tokenRefused are those refusing the bot's
// token or workspace itself: no message can go out until an admin acts,
// so the provider is down, not just this request.
var (
	tokenRefused = map[string]bool{
		"invalid_auth":     true,
		"not_authed":       true,
		"account_inactive": true,
		"token_revoked":    true,
		"token_expired":    true,
		"team_disabled":    true,
	}
	authErrors = func() map[string]bool {
		m := map[string]bool{
			"no_permission":          true,
			"missing_scope":          true,
			"not_allowed_token_type": true,
			"ekm_access_denied":      true,
			"org_login_required":     true,
		}
		for code := range tokenRefused {
			m[code] = true
		}
		return m
	}()
)

// errorReason is the reason of one of Slack's ok:false error codes.
func errorReason(code string) channels.Reason {
	switch {
	case authErrors[code]:
		return channels.ReasonAuth
	case code == "ratelimited":
		return channels.ReasonRateLimited
	case code == "request_timeout":
		return channels.ReasonTimeout
	case transient[code]:
		return channels.ReasonServer
	}
	return channels.ReasonClient
}
