package channels

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/hikyaku/hikyaku/config"
)

// Receiver is the engine as a channel's inbound side sees it: an SMS reply,
// a key press, a mail, a button or a delivery report reaches incidents only
// through it. The engine implements it; channels' tests use a fake
// (channelstest.Receiver). An inbound request takes Config once and uses that
// one copy throughout, so a reload never mixes two configurations in one answer.
type Receiver interface {
	// Config is the configuration in force.
	Config() *config.Config
	// Owners are the configured users whose contact on channel is address,
	// in the config's order: who owns this number, mailbox or Slack id.
	Owners(channel, address string) []*config.User
	// Act carries out a person's action and says what became of it. The
	// error means the action could not be recorded (the store did not
	// answer): nothing changed and the request may be tried again.
	Act(ctx context.Context, a Action) (Result, error)
	// Paged are the pages (never reports) that reached user on channel for
	// incidents not yet resolved, oldest incident first.
	Paged(ctx context.Context, user, channel string) ([]Delivery, error)
	// Deliveries are everything sent about one incident, in order;
	// ErrNoIncident when there is no such incident.
	Deliveries(ctx context.Context, incident int64) ([]Delivery, error)
	// ActedOn is the incident an inbound request named dedup acted on, 0
	// when none did: a provider's retry of a bare "ack" finds its incident.
	ActedOn(ctx context.Context, dedup string) (int64, error)
	// Seen claims the replay record of request key arriving on via for
	// keep; replayed is true when it existed: the request came before.
	Seen(ctx context.Context, via, key string, keep time.Duration) (replayed bool, err error)
	// Unsee drops the replay record of a request that could not act, so
	// the person (or the provider's retry) can try again.
	Unsee(ctx context.Context, via, key string)
	// SetOptOut records that address stopped (out) or resumed SMS pages.
	SetOptOut(ctx context.Context, address string, out bool) error
	// DeliveryFailed fails over the message whose Message.Callback token a
	// provider reports undelivered or unanswered; ErrBadCallback when the
	// token is unreadable (it never will be).
	DeliveryFailed(ctx context.Context, token, reason string) error
	// DeliveryAccepted marks the message whose Message.Callback token a
	// provider reports taken (a call initiated, an SMS sent), so a replica
	// taking it over after its sender vanished does not send it again.
	DeliveryAccepted(ctx context.Context, token, providerID string) error
	// Note puts an event on an incident's timeline (a refused reply);
	// ErrNoIncident when there is no such incident.
	Note(ctx context.Context, incident int64, ev Note) error

	// For the email reply listener (channels/email).

	// Posted is the page or report whose provider id (Receipt.ProviderID)
	// on channel is providerID, of any incident still kept: a reply in a
	// Slack message's thread names its message only. ErrNoIncident when
	// none is.
	Posted(ctx context.Context, channel, providerID string) (Delivery, error)

	// Noted are the events of type typ on an incident's timeline, oldest
	// first: what earlier Notes recorded (how many refusals it holds, who
	// was told); ErrNoIncident when there is no such incident.
	Noted(ctx context.Context, incident int64, typ string) ([]Note, error)

	// Send sends m through its channel's current sender, outside any page:
	// a confirmation or a notice. Nothing is retried or failed over.
	Send(ctx context.Context, m *Message) (Receipt, error)
	// Unknown logs and counts a request from an address no user has,
	// which is then neither answered nor acted on.
	Unknown(ctx context.Context, channel, address string)
}

// Verb is what a person asks of an incident.
type Verb string

// The verbs. TakeRole and AddNote run the incident: the person takes
// Action.Role, or adds Action.Note to its decision log.
const (
	Ack      Verb = "ack"
	Resolve  Verb = "resolve"
	Escalate Verb = "escalate"
	TakeRole Verb = "take_role"
	AddNote  Verb = "note"
)

// NoteText is what a person wrote as a note: a reply in a page's Slack
// thread or to its email.
type NoteText struct {
	Text     string
	Decision bool
	// Fields are the report fields its field lines set (reply.ParseNote).
	Fields NoteFields
	// Severity, when set, is the current severity the note sets, for
	// SeverityReason, as the API's severity change does.
	Severity       string
	SeverityReason string
}

// NoteFields are the report fields a note sets; "" leaves one as it is.
type NoteFields struct {
	Impact            string
	Cause             string
	ActionProvisional string
	ActionPermanent   string
	Prevention        string
}

// Action is one person's request on one incident.
type Action struct {
	Incident int64
	Verb     Verb
	User     string // a configured user id
	Via      string // the channel it came on: sms, voice, email, slack…
	// Dedup names the inbound request (Twilio's MessageSid, Slack's action
	// ts…): the same request acts once, however often the provider retries it.
	Dedup string
	// Replayed says Dedup's replay record existed already (Seen): the
	// request acts only as a provider's retry of one still in the
	// incident's window of handled requests, answered as the first was;
	// otherwise its outcome is Replayed and nothing changes.
	Replayed bool
	// Role is the role TakeRole gives User: ic, ops, comm or rec.
	Role string
	// Note is AddNote's note.
	Note NoteText
}

// Outcome is what became of an action, for the answer its sender gets.
type Outcome string

// The outcomes. A provider's retry of a request that acted gets Done again.
const (
	Done            Outcome = "done"
	AlreadyAcked    Outcome = "already_acked" // Incident.AckedBy says by whom
	AlreadyResolved Outcome = "resolved"
	NotFound        Outcome = "not_found"
	Forbidden       Outcome = "forbidden" // Result.Reason says why
	Replayed        Outcome = "replayed"  // a captured request sent again: say nothing
	Invalid         Outcome = "invalid"   // a role or note refused for its content; Result.Reason says why
	Unchanged       Outcome = "unchanged" // the role already stood so
)

// Result is an action's outcome and the incident as it stands after it.
type Result struct {
	Outcome  Outcome
	Incident Incident // zero when NotFound
	// Reason says why a Forbidden action was refused, for the person.
	Reason string

	// Retry says a Done action had acted already: a provider's retry of a
	// request still in the incident's window of handled requests. Its
	// answer was given the first time; a channel that sends one separately
	// (an email confirmation) does not send it again.
	Retry bool
}

// Delivery is one message hikyaku sent: who was reached, when, on which
// channel, and what the provider called it. Inbound answers read these, not
// the timeline, to know who was paged about what.
type Delivery struct {
	Incident   int64
	Kind       Kind
	Channel    string
	User       string // "" for a chat channel
	To         string // the address it went to
	Step       int    // 1-based step of a page, 0 otherwise
	ProviderID string // Twilio SID, Slack ts, SMTP Message-ID
	Ref        string // Message.Ref
	At         time.Time
	Status     string // the incident's status now: open, acked, resolved
}

// Note is a timeline event an inbound side records.
type Note struct {
	Type   string
	Actor  string
	Detail map[string]string
}

// Errors of a Receiver.
var (
	ErrNoIncident  = errors.New("no such incident")
	ErrBadCallback = errors.New("callback token unreadable")
)

// ActOnce is Act for a request named by a.Dedup, which acts once however
// often it arrives within keep: a provider's retry still in the incident's
// window gets the answer the first delivery got, any other repeat the
// Replayed outcome. It is the one path each channel's dedup goes through.
func ActOnce(ctx context.Context, r Receiver, a Action, keep time.Duration) (Result, error) {
	replayed, err := r.Seen(ctx, a.Via, a.Dedup, keep)
	if err != nil {
		return Result{}, err
	}
	a.Replayed = replayed
	res, err := r.Act(ctx, a)
	if err != nil && !replayed {
		r.Unsee(ctx, a.Via, a.Dedup)
	}
	return res, err
}

// Route is one inbound endpoint a channel serves on the public listener.
type Route struct {
	Pattern string // a net/http ServeMux pattern, e.g. "POST /api/v1/twilio/sms"
	// MaxBody bounds the request body; the server counts it against the
	// bodies it holds in flight (global.max_inflight_body_bytes).
	MaxBody int64
	Handler http.Handler
}

// Source is where an inbound request came from, for the audit stream.
type Source struct {
	// Addr is the peer's address (behind a reverse proxy, the proxy's).
	Addr string
	// User is the name the listener authenticated; empty when it checks none.
	User string
}

type sourceKey struct{}

// WithSource attaches src to ctx for the audit lines of what ctx does.
func WithSource(ctx context.Context, src Source) context.Context {
	return context.WithValue(ctx, sourceKey{}, src)
}

// SourceOf is the source WithSource attached to ctx.
func SourceOf(ctx context.Context) (Source, bool) {
	src, ok := ctx.Value(sourceKey{}).(Source)
	return src, ok
}
