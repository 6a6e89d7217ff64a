package store

import (
	"cmp"
	"context"
	"slices"
	"strings"
	"time"
)

// Delivery is one message hikyaku sent about an incident, written by the
// same atomic write as the send's timeline event (Change.Deliveries): who
// was reached, when, on which channel, and what the provider called it.
// Inbound answers (a bare SMS "ack", an email reply's author) and message
// rewrites read these; the timeline is for people and is not parsed.
type Delivery struct {
	Incident   int64     `json:"-"` // filled in by the store from where it is kept
	Kind       string    `json:"kind"`
	Channel    string    `json:"channel"`
	User       string    `json:"user,omitempty"` // the person; "" for a chat channel
	Chat       string    `json:"chat,omitempty"` // the chat channel's name; "" for a person
	To         string    `json:"to,omitempty"`   // the address it went to
	Step       int       `json:"step,omitempty"` // 1-based step of a page, 0 otherwise
	ProviderID string    `json:"provider_id,omitempty"`
	Ref        string    `json:"ref,omitempty"`
	At         time.Time `json:"at"`
	// Status is the incident's status when Paged read it; Deliveries
	// leaves it empty. Not stored: an ack would otherwise rewrite every
	// delivery of the incident.
	Status Status `json:"-"`
}

// DeliveryPage is the Kind of a page: only pages to a person are indexed
// for Paged. Stakeholder reports inform and are not acknowledged.
const DeliveryPage = "page"

// Deliveries is the store's record of what was sent.
type Deliveries interface {
	// Deliveries are the messages sent about incident, in the order they
	// were written; ErrNotFound when there is no such incident.
	Deliveries(ctx context.Context, incident int64) ([]Delivery, error)
	// Paged are the pages (Kind DeliveryPage) that reached user on channel
	// ("" for any channel) for incidents not resolved, oldest incident
	// first, each with the incident's Status. It reads an index by person
	// that holds only the pages of open and acknowledged incidents, so its
	// cost grows with that person's pages, not with the open incidents.
	Paged(ctx context.Context, user, channel string) ([]Delivery, error)
	// Posted is the delivery on channel whose ProviderID is providerID,
	// the first written of any such, for as long as its incident is kept:
	// a reply in a Slack message's thread names that message only. It
	// reads an index by provider id, so its cost does not grow with the
	// incidents kept. ErrNotFound when there is none.
	Posted(ctx context.Context, channel, providerID string) (Delivery, error)
}

// indexedPosted says whether d goes in the by-provider-id index: every
// delivery the provider named.
func indexedPosted(d *Delivery) bool { return d.ProviderID != "" }

// indexedPage says whether d goes in the by-person index (while its
// incident is not resolved).
func indexedPage(d *Delivery) bool { return d.Kind == DeliveryPage && d.User != "" }

// sortPaged orders Paged's answer: by incident, then by send time. The
// indexes order by channel first, which no caller wants.
func sortPaged(ds []Delivery) {
	slices.SortStableFunc(ds, func(a, b Delivery) int {
		return cmp.Or(cmp.Compare(a.Incident, b.Incident), a.At.Compare(b.At))
	})
}

// deliveriesFromTimeline rebuilds the deliveries of an incident stored
// before deliveries were kept, from its "notified" events, for the upgrade
// (BackfillDeliveries). It is the only reader of those events' Detail, and
// it runs once per incident. The timeline never said the address or the
// step, so those stay empty.
func deliveriesFromTimeline(id int64, evs []Event) []Delivery {
	var out []Delivery
	for _, ev := range evs {
		if ev.Type != "notified" {
			continue
		}
		d := Delivery{Incident: id, Kind: ev.Detail["kind"], Channel: ev.Detail["channel"],
			ProviderID: ev.Detail["provider_id"], At: ev.At}
		if chat, ok := strings.CutPrefix(ev.Detail["to"], "#"); ok {
			d.Chat = chat
		} else {
			d.User = ev.Detail["to"]
		}
		out = append(out, d)
	}
	return out
}
