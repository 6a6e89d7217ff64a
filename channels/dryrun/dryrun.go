// Package dryrun is the sender of `hikyaku serve --dry-run`: it sends
// nothing, logs each message it would have sent at INFO, and keeps nothing,
// so a demo or a trial run shows its pages without paging anyone, and a
// daemon left running in dry-run does not grow.
package dryrun

import (
	"context"
	"log/slog"

	"github.com/hikyaku/hikyaku/channels"
)

// MsgRecorded is the log message of every recorded message.
const MsgRecorded = "message recorded (dry run: nothing is sent)"

// Sender records by logging. Its zero value logs nowhere.
type Sender struct {
	Log *slog.Logger
}

// Send logs m and answers a receipt that says it was only recorded, so the
// engine never counts it as sent.
func (s Sender) Send(ctx context.Context, m *channels.Message) (channels.Receipt, error) {
	if err := ctx.Err(); err != nil {
		return channels.Receipt{}, err
	}
	if s.Log != nil {
		s.Log.InfoContext(ctx, MsgRecorded, "channel", m.Channel, "kind", string(m.Kind), "incident", m.IncidentID,
			"to", m.To, "key", m.IdempotencyKey, "text", m.Text)
	}
	return channels.Receipt{ProviderID: m.IdempotencyKey, Recorded: true}, nil
}
