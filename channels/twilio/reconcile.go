package twilio

import (
	"context"
	"fmt"
	"strings"
	"time"

	openapi "github.com/twilio/twilio-go/rest/api/v2010"

	"github.com/hikyaku/hikyaku/channels"
)

var _ channels.Reconciler = (*SMS)(nil)

// lookupLimit bounds how many of a number's messages one Lookup reads: a
// crash is found within seconds, and Twilio lists the newest first.
const lookupLimit = 200

// refMark is how an SMS carries its Message.Ref, at the end of the line
// that is never cut (see Fit), so a takeover can find it in Twilio's list.
func refMark(ref string) string { return "ref:" + ref }

// withRef appends m's ref to the tail of an SMS text.
func withRef(tail, ref string) string {
	if ref == "" {
		return tail
	}
	if tail == "" {
		return refMark(ref)
	}
	return tail + " " + refMark(ref)
}

// Lookup asks Twilio whether an SMS for m already went out at or after
// since: it lists the messages from hikyaku's number to m.To sent that day
// or later (Twilio filters DateSent by GMT date) and looks for m.Ref in
// their bodies. A message Twilio took and later failed still counts as
// found: its fate arrives at the status callback.
func (s *SMS) Lookup(ctx context.Context, m *channels.Message, since time.Time) (channels.Receipt, bool, error) {
	if m.Ref == "" {
		return channels.Receipt{}, false, fmt.Errorf("twilio: look up SMS to %s: the message has no ref to match", m.To)
	}
	ctx, cancel := s.acct.deadline(ctx)
	defer cancel()
	api, c, err := s.acct.service(ctx)
	if err != nil {
		return channels.Receipt{}, false, err
	}
	day := since.UTC().Truncate(24 * time.Hour)
	p := &openapi.ListMessageParams{}
	p.SetTo(m.To).SetFrom(s.acct.from).SetDateSentAfter(day).SetPageSize(50).SetLimit(lookupLimit)
	msgs, err := api.ListMessage(p)
	if err != nil {
		return channels.Receipt{}, false, classify("look up SMS to "+m.To, err, c.status)
	}
	mark := refMark(m.Ref)
	for _, msg := range msgs {
		if msg.Body == nil || !strings.Contains(*msg.Body, mark) {
			continue
		}
		var rc channels.Receipt
		if msg.Sid != nil {
			rc.ProviderID = *msg.Sid
		}
		return rc, true, nil
	}
	return channels.Receipt{}, false, nil
}
