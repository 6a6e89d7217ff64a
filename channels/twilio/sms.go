package twilio

import (
	"context"

	openapi "github.com/twilio/twilio-go/rest/api/v2010"

	"github.com/hikyaku/hikyaku/channels"
)

// SMS sends channel "sms" as Twilio Messages. It is safe for concurrent use.
type SMS struct {
	acct        *account
	maxSegments int
	statusURL   func(m *channels.Message) string
}

// Send hands m to Twilio. The text is cut to max_sms_segments, keeping its
// last line (see SplitTail), which ends with m.Ref for Lookup; the receipt carries the message SID (SM…).
func (s *SMS) Send(ctx context.Context, m *channels.Message) (channels.Receipt, error) {
	ctx, cancel := s.acct.deadline(ctx)
	defer cancel()
	api, c, err := s.acct.service(ctx)
	if err != nil {
		return channels.Receipt{}, err
	}
	body, tail := SplitTail(m.Text)
	text := Fit(body, withRef(tail, m.Ref), s.maxSegments)
	p := &openapi.CreateMessageParams{}
	p.SetTo(m.To).SetFrom(s.acct.from).SetBody(text)
	if cb := callbackURL(s.statusURL, m); cb != "" {
		p.SetStatusCallback(cb)
	}
	msg, err := api.CreateMessage(p)
	if err != nil {
		if accepted(c.status) {
			// Twilio took it but its answer was unreadable: sending again
			// would page the person twice.
			return channels.Receipt{}, nil
		}
		return channels.Receipt{}, classify("send SMS to "+m.To, err, c.status)
	}
	var rc channels.Receipt
	if msg.Sid != nil {
		rc.ProviderID = *msg.Sid
	}
	return rc, nil
}

func accepted(status int) bool { return status >= 200 && status < 300 }
