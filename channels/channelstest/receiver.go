// Package channelstest is a fake of the engine as channels' inbound sides
// see it (channels.Receiver), for their tests: it records what they ask.
package channelstest

import (
	"context"
	"strings"
	"sync"
	"time"

	"github.com/hikyaku/hikyaku/channels"
	"github.com/hikyaku/hikyaku/config"
)

// Receiver is an in-memory channels.Receiver. Its zero value with Cfg set
// works: every action is Done and acknowledges its incident.
type Receiver struct {
	Cfg *config.Config
	// ActFunc answers Act when set; otherwise Act says Done.
	ActFunc func(a channels.Action) (channels.Result, error)
	// Pages and Sent are what Paged and Deliveries read.
	Pages     []channels.Delivery
	Delivered map[int64][]channels.Delivery
	// Handled is what ActedOn reads: request dedup → incident.
	Handled map[string]int64
	// Err, when set, is every store-backed method's failure (the store is down).
	Err error
	// SendErr is Send's failure.
	SendErr error
	// SendFunc, when set, sends what Send took (a channel's real sender
	// against its fake provider); its answer is Send's.
	SendFunc func(ctx context.Context, m *channels.Message) (channels.Receipt, error)

	mu       sync.Mutex
	actions  []channels.Action
	seen     map[string]bool
	optOut   map[string]bool
	failed   []string
	accepted []string
	notes    []channels.Note
	noted    map[int64][]channels.Note // Note's events by incident, for Noted
	sent     []*channels.Message
	unknowns []string
}

var _ channels.Receiver = (*Receiver)(nil)

func (r *Receiver) Config() *config.Config { return r.Cfg }

// Owners compares the contact fields as the engine does: email without case.
func (r *Receiver) Owners(channel, addr string) []*config.User {
	var out []*config.User
	for _, u := range r.Cfg.Users {
		have := u.Contacts.Get(config.Channel(channel))
		if have != "" && (have == addr || channel == string(config.ChannelEmail) && strings.EqualFold(have, addr)) {
			out = append(out, u)
		}
	}
	return out
}

func (r *Receiver) Act(_ context.Context, a channels.Action) (channels.Result, error) {
	r.mu.Lock()
	r.actions = append(r.actions, a)
	r.mu.Unlock()
	if r.Err != nil {
		return channels.Result{}, r.Err
	}
	if r.ActFunc != nil {
		return r.ActFunc(a)
	}
	if a.Replayed {
		return channels.Result{Outcome: channels.Replayed}, nil
	}
	st := "acked"
	if a.Verb == channels.Resolve {
		st = "resolved"
	}
	return channels.Result{Outcome: channels.Done, Incident: channels.Incident{ID: a.Incident, Status: st, AckedBy: a.User}}, nil
}

// Actions are the actions asked so far.
func (r *Receiver) Actions() []channels.Action {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]channels.Action(nil), r.actions...)
}

func (r *Receiver) Paged(_ context.Context, user, channel string) ([]channels.Delivery, error) {
	if r.Err != nil {
		return nil, r.Err
	}
	var out []channels.Delivery
	for _, d := range r.Pages {
		if d.User == user && (channel == "" || d.Channel == channel) && d.Kind == channels.KindPage && d.Status != "resolved" {
			out = append(out, d)
		}
	}
	return out, nil
}

func (r *Receiver) Deliveries(_ context.Context, id int64) ([]channels.Delivery, error) {
	if r.Err != nil {
		return nil, r.Err
	}
	ds, ok := r.Delivered[id]
	if !ok {
		return nil, channels.ErrNoIncident
	}
	return ds, nil
}

func (r *Receiver) ActedOn(_ context.Context, dedup string) (int64, error) {
	if r.Err != nil {
		return 0, r.Err
	}
	return r.Handled[dedup], nil
}

func (r *Receiver) Seen(_ context.Context, via, key string, _ time.Duration) (bool, error) {
	if r.Err != nil {
		return false, r.Err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.seen == nil {
		r.seen = map[string]bool{}
	}
	was := r.seen[key]
	r.seen[key] = true
	return was, nil
}

func (r *Receiver) Unsee(_ context.Context, _, key string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.seen, key)
}

// WasSeen says whether key's replay record is held.
func (r *Receiver) WasSeen(key string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.seen[key]
}

func (r *Receiver) SetOptOut(_ context.Context, addr string, out bool) error {
	if r.Err != nil {
		return r.Err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.optOut == nil {
		r.optOut = map[string]bool{}
	}
	r.optOut[addr] = out
	return nil
}

// OptedOut says what SetOptOut last recorded for addr.
func (r *Receiver) OptedOut(addr string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.optOut[addr]
}

func (r *Receiver) DeliveryFailed(_ context.Context, token, reason string) error {
	if r.Err != nil {
		return r.Err
	}
	if token == "" {
		return channels.ErrBadCallback
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.failed = append(r.failed, token+" "+reason)
	return nil
}

func (r *Receiver) DeliveryAccepted(_ context.Context, token, providerID string) error {
	if r.Err != nil {
		return r.Err
	}
	if token == "" {
		return channels.ErrBadCallback
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.accepted = append(r.accepted, token+" "+providerID)
	return nil
}

// Accepted are the DeliveryAccepted calls, as "token providerID".
func (r *Receiver) Accepted() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.accepted...)
}

// Failed are the DeliveryFailed calls, as "token reason".
func (r *Receiver) Failed() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.failed...)
}

func (r *Receiver) Note(_ context.Context, id int64, n channels.Note) error {
	if r.Err != nil {
		return r.Err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.notes = append(r.notes, n)
	if r.noted == nil {
		r.noted = map[int64][]channels.Note{}
	}
	r.noted[id] = append(r.noted[id], n)
	return nil
}

// Notes are the timeline events recorded.
func (r *Receiver) Notes() []channels.Note {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]channels.Note(nil), r.notes...)
}

func (r *Receiver) Send(ctx context.Context, m *channels.Message) (channels.Receipt, error) {
	if r.SendErr != nil {
		return channels.Receipt{}, r.SendErr
	}
	r.mu.Lock()
	r.sent = append(r.sent, m)
	r.mu.Unlock()
	if r.SendFunc != nil {
		return r.SendFunc(ctx, m)
	}
	return channels.Receipt{ProviderID: "fake-" + m.IdempotencyKey}, nil
}

// Sent are the messages Send took.
func (r *Receiver) Sent() []*channels.Message {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]*channels.Message(nil), r.sent...)
}

func (r *Receiver) Unknown(_ context.Context, channel, addr string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.unknowns = append(r.unknowns, channel+" "+addr)
}

// Unknowns are the Unknown calls, as "channel address".
func (r *Receiver) Unknowns() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.unknowns...)
}

// For the email reply listener (channels/email).

// Noted reads what Note recorded; an incident Delivered lacks does not exist.
func (r *Receiver) Noted(_ context.Context, id int64, typ string) ([]channels.Note, error) {
	if r.Err != nil {
		return nil, r.Err
	}
	if _, ok := r.Delivered[id]; !ok {
		return nil, channels.ErrNoIncident
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []channels.Note
	for _, n := range r.noted[id] {
		if n.Type == typ {
			out = append(out, n)
		}
	}
	return out, nil
}

// Posted looks through Delivered for the delivery providerID names.
func (r *Receiver) Posted(_ context.Context, channel, providerID string) (channels.Delivery, error) {
	if r.Err != nil {
		return channels.Delivery{}, r.Err
	}
	for _, ds := range r.Delivered {
		for _, d := range ds {
			if d.Channel == channel && d.ProviderID == providerID {
				return d, nil
			}
		}
	}
	return channels.Delivery{}, channels.ErrNoIncident
}
