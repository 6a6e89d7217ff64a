package router

import (
	"context"
	"errors"

	"github.com/hikyaku/hikyaku/channels"
)

// smsOptedOut fails an SMS to a number that sent STOP as permanent, so the
// person's next contact method is paged at once instead of after a send
// Twilio would refuse.
func (e *Engine) smsOptedOut(ctx context.Context, to string) error {
	out, err := e.opts.Store.OptedOut(ctx, to)
	if err != nil {
		// A page matters more than the flag: should the number have opted
		// out, Twilio refuses the send and the failover follows from that.
		e.log.Warn("reading SMS opt-out failed; sending anyway", "err", err)
		return nil
	}
	if out {
		return channels.Permanent("", errors.New("opted out by STOP (START resumes)"))
	}
	return nil
}
