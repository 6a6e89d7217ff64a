package twilio

import (
	"context"
	"fmt"
	"time"

	openapi "github.com/twilio/twilio-go/rest/api/v2010"

	"github.com/hikyaku/hikyaku/channels"
)

var _ channels.PlacedLister = (*Voice)(nil)

// callSkew widens the window Placed reads: Twilio stamps date_created to
// the second, on its own clock.
const callSkew = 2 * time.Second

// endedCall are the statuses of a call Twilio is done with: no callback
// of it is still to come.
var endedCall = map[string]bool{"completed": true, "busy": true, "failed": true, "no-answer": true, "canceled": true}

// Placed lists the calls Twilio took from hikyaku's number to m.To since
// (less callSkew). A queued call has not started, and Twilio's StartTime
// filter knows only start times, so queued calls are asked for on their
// own, first: a call that starts between the two requests is in the
// second. Twilio lists the newest first; a list that ends before reaching
// since at lookupLimit is not all.
func (v *Voice) Placed(ctx context.Context, m *channels.Message, since time.Time) ([]channels.Placed, bool, error) {
	ctx, cancel := v.acct.deadline(ctx)
	defer cancel()
	from := since.Add(-callSkew).Truncate(time.Second)
	seen := map[string]bool{}
	var out []channels.Placed
	all := true
	for _, queued := range []bool{true, false} {
		api, c, err := v.acct.service(ctx)
		if err != nil {
			return nil, false, err
		}
		p := &openapi.ListCallParams{}
		p.SetTo(m.To).SetFrom(v.acct.from).SetPageSize(50).SetLimit(lookupLimit)
		if queued {
			p.SetStatus("queued")
		} else {
			p.SetStartTimeAfter(from.UTC().Truncate(24 * time.Hour))
		}
		calls, err := api.ListCall(p)
		if err != nil {
			return nil, false, classify("list calls to "+m.To, err, c.status)
		}
		reached := false
		for _, call := range calls {
			if call.Sid == nil || call.DateCreated == nil {
				continue
			}
			at, err := time.Parse(time.RFC1123Z, *call.DateCreated)
			if err != nil {
				return nil, false, fmt.Errorf("twilio: list calls to %s: call %s has date_created %q: %w", m.To, *call.Sid, *call.DateCreated, err)
			}
			if at.Before(from) {
				reached = true
				continue
			}
			if seen[*call.Sid] {
				continue
			}
			seen[*call.Sid] = true
			out = append(out, channels.Placed{ProviderID: *call.Sid, At: at,
				Ended: call.Status != nil && endedCall[*call.Status]})
		}
		if len(calls) >= lookupLimit && !reached {
			all = false
		}
	}
	return out, all, nil
}
