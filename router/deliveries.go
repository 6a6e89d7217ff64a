package router

import (
	"time"

	"github.com/hikyaku/hikyaku/channels"
	"github.com/hikyaku/hikyaku/store"
)

// sentDelivery is the record of m, sent for p, written with its notified
// event. A message nothing sent (--dry-run's record) is none: no reply may
// take it for a page that reached anyone.
func sentDelivery(p *notifyPayload, m *channels.Message, rc channels.Receipt, at time.Time) []store.Delivery {
	if rc.Recorded {
		return nil
	}
	d := store.Delivery{Kind: p.Kind, Channel: p.Channel, User: p.User, Chat: p.ChatChannel, To: m.To,
		ProviderID: rc.ProviderID, Ref: m.Ref, At: at}
	if p.Kind == "page" {
		d.Step = p.Step + 1
	}
	return []store.Delivery{d}
}

// channelDelivery is a stored delivery as the inbound sides see it.
func channelDelivery(d store.Delivery) channels.Delivery {
	return channels.Delivery{Incident: d.Incident, Kind: channels.Kind(d.Kind), Channel: d.Channel, User: d.User,
		To: d.To, Step: d.Step, ProviderID: d.ProviderID, Ref: d.Ref, At: d.At, Status: string(d.Status)}
}
