// Package record is a Sender that keeps every message in memory: the engine's
// tests, `hikyaku serve` without providers, and demos use it to see what would be sent.
package record

import (
	"context"
	"log/slog"
	"sync"

	"github.com/hikyaku/hikyaku/channels"
)

// Sender records messages. Fail, when set, decides the outcome of each send.
type Sender struct {
	mu   sync.Mutex
	sent []channels.Message
	// Fail returns the error to answer for m (nil: accepted). Called under no lock.
	Fail func(m *channels.Message) error
	// Sent, when set, is signalled after each accepted message (tests wait on it).
	Sent chan channels.Message
	// Log, when set, logs each accepted message: a daemon without providers
	// shows what it would have sent.
	Log *slog.Logger
}

// Send records m unless Fail says otherwise.
func (s *Sender) Send(ctx context.Context, m *channels.Message) (channels.Receipt, error) {
	if err := ctx.Err(); err != nil {
		return channels.Receipt{}, err
	}
	if s.Fail != nil {
		if err := s.Fail(m); err != nil {
			return channels.Receipt{}, err
		}
	}
	if s.Log != nil {
		s.Log.Info("message recorded (no provider configured for this channel)", "channel", m.Channel,
			"kind", string(m.Kind), "incident", m.IncidentID, "to", m.To, "key", m.IdempotencyKey, "text", m.Text)
	}
	s.mu.Lock()
	s.sent = append(s.sent, *m)
	s.mu.Unlock()
	if s.Sent != nil {
		select {
		case s.Sent <- *m:
		case <-ctx.Done():
		}
	}
	return channels.Receipt{ProviderID: m.IdempotencyKey}, nil
}

// Messages returns a copy of everything accepted so far, in order.
func (s *Sender) Messages() []channels.Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]channels.Message(nil), s.sent...)
}
