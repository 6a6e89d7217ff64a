// Package record is a Sender that keeps every message in memory, for tests
// to see what was sent. The daemon never uses it: it would grow without
// bound (`serve --dry-run` uses channels/dryrun, which keeps nothing).
package record

import (
	"context"
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
