package slack

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/slack-go/slack"

	"github.com/hikyaku/hikyaku/channels"
)

var _ channels.Reconciler = (*Sender)(nil)

// metadataEventType names hikyaku's message metadata: Slack keeps it with
// the message and returns it from conversations.history.
const metadataEventType = "hikyaku_message"

// Lookup reads at most this many pages of a conversation's history: a
// crash is found within seconds, and Slack returns the newest first.
const maxHistoryPages = 5

// metadata is what a message carries for Lookup: its ref and incident.
func metadata(m *channels.Message) (slack.SlackMetadata, bool) {
	if m.Ref == "" {
		return slack.SlackMetadata{}, false
	}
	return slack.SlackMetadata{EventType: metadataEventType, EventPayload: map[string]any{
		"ref": m.Ref, "incident": strconv.FormatInt(m.IncidentID, 10)}}, true
}

// Lookup asks Slack whether m was posted at or after since: it reads the
// conversation's history (a user's DM with the bot, opened as Send does)
// with metadata and looks for m.Ref in hikyaku's metadata.
func (s *Sender) Lookup(ctx context.Context, m *channels.Message, since time.Time) (channels.Receipt, bool, error) {
	if m.Ref == "" {
		return channels.Receipt{}, false, fmt.Errorf("slack: look up message to %s: the message has no ref to match", m.To)
	}
	channel := m.To
	if channel != "" && (channel[0] == 'U' || channel[0] == 'W') {
		// History is by conversation: a user's is the bot's DM with them.
		ch, _, _, err := s.api.OpenConversationContext(ctx, &slack.OpenConversationParameters{Users: []string{m.To}})
		if err != nil {
			return channels.Receipt{}, false, classify(fmt.Errorf("slack conversations.open %s: %w", m.To, err))
		}
		channel = ch.ID
	}
	p := &slack.GetConversationHistoryParameters{ChannelID: channel, IncludeAllMetadata: true, Limit: 100,
		Oldest: fmt.Sprintf("%d.%06d", since.Unix(), since.Nanosecond()/1000), Inclusive: true}
	for range maxHistoryPages {
		h, err := s.api.GetConversationHistoryContext(ctx, p)
		if err != nil {
			return channels.Receipt{}, false, classify(fmt.Errorf("slack conversations.history %s: %w", channel, err))
		}
		for _, msg := range h.Messages {
			md := msg.Metadata
			if md.EventType == metadataEventType && md.EventPayload["ref"] == m.Ref {
				return channels.Receipt{ProviderID: channel + "/" + msg.Timestamp}, true, nil
			}
		}
		if !h.HasMore || h.ResponseMetaData.NextCursor == "" {
			return channels.Receipt{}, false, nil
		}
		p.Cursor = h.ResponseMetaData.NextCursor
	}
	return channels.Receipt{}, false, fmt.Errorf("slack: look up %s in %s: not within the newest %d pages of history", m.Ref, channel, maxHistoryPages)
}
