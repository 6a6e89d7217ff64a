// Package channels carries hikyaku's messages to people: one subpackage per
// channel (SMS, voice, email, Slack, webhooks), all behind the Sender interface.
package channels

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Kind says why a message is sent: pages demand an answer, reports only inform.
type Kind string

// The kinds of message.
const (
	KindPage     Kind = "page"     // someone must acknowledge
	KindReport   Kind = "report"   // stakeholders: initial or periodic update
	KindResolved Kind = "resolved" // stakeholders: final report
)

// Message is one notification to one address on one channel.
type Message struct {
	// IdempotencyKey is stable across retries and replicas: a provider that
	// accepts keys (or a fake that checks them) can drop a duplicate.
	IdempotencyKey string
	Channel        string // sms, voice, email, slack, webhook
	Kind           Kind
	IncidentID     int64
	// To is the address on that channel: E.164 number, email, Slack user or channel id, URL.
	To       string
	UserID   string // empty for a chat channel
	Name     string
	Language string // ja or en
	Subject  string
	Text     string
	// Data is the Alertmanager message the text was rendered from (template.Data as JSON),
	// for channels that render their own structure (Slack blocks, webhook templates).
	Data []byte
	// Incident is what hikyaku knows beyond Alertmanager's data.
	Incident Incident
	// BodyTemplate, when set, is the chat channel's own template for a webhook body.
	BodyTemplate string
	// BearerToken is sent as Authorization by the webhook channel (chat channels' bearer_token).
	BearerToken string
	// Callback is an opaque token the router wants back when a provider later
	// reports the message failed (Twilio's StatusCallback): the Twilio channel
	// puts it in the callback URL, which Twilio signs, so it cannot be forged.
	Callback string
	// Links are the recipient's signed action URLs (ack, resolve, escalate),
	// for channels whose text can carry a URL to press; nil when hikyaku has
	// no signing_key or external_url, or the message is no page to a person.
	Links map[string]string
	// AckHint, when set, says how to acknowledge on this channel in the
	// recipient's language, as the channel's sender words it (AckHinter);
	// otherwise templates use the built-in hint for the channel.
	AckHint string
	// Thread and Ephemeral are for answers on a chat channel that threads
	// (Slack): Thread posts m in the thread of the message To's
	// conversation has with that id (Slack's thread_ts), Ephemeral shows it
	// to that chat user alone (chat.postEphemeral), who must be in To.
	Thread    string
	Ephemeral string
	// Ref is a short token naming this outbox entry, the same on every
	// attempt and replica. Channels that implement Reconciler carry it in
	// what the provider keeps (the SMS text, Slack metadata), so a replica
	// taking over after a crash can find out whether the message went out.
	Ref string
}

// Incident is the incident as messages describe it.
type Incident struct {
	ID             int64     `json:"id"`
	Status         string    `json:"status"` // open, acked, resolved
	Severity       string    `json:"severity"`
	Department     string    `json:"department"` // display name
	DepartmentID   string    `json:"department_id"`
	Route          string    `json:"route"`
	Policy         string    `json:"policy"`
	Step           int       `json:"step"` // 1-based step that paged, 0 for reports
	CreatedAt      time.Time `json:"created_at"`
	AckedBy        string    `json:"acked_by,omitempty"`
	URL            string    `json:"url,omitempty"`        // the incident in hikyaku's API/UI (global.external_url)
	NextUpdate     time.Time `json:"next_update,omitzero"` // reports: when stakeholders hear next
	FiringAlerts   int       `json:"firing_alerts"`
	ResolvedAlerts int       `json:"resolved_alerts"`
	// Roles and Report are how the incident is being run (incident_run.go).
	Roles []RoleHolder `json:"roles,omitempty"`
	// RoleTitles are the display names of every role (config.IncidentRoleIDs)
	// in the message's language, for the buttons that take one.
	RoleTitles map[string]string `json:"-"`
	Report     *IncidentReport   `json:"report,omitempty"`
	// PagedAs is the role the page asks the person to take, in the message's
	// language ("IC"), when the policy's incident_commander rotation paged
	// them; the default texts say so first.
	PagedAs string `json:"paged_as,omitempty"`
	// Test says this is a test page (a contact check), not an incident:
	// the default texts say so first.
	Test bool `json:"test,omitempty"`
	// StakeholderReport is the report a report or resolved message carries.
	StakeholderReport *Report `json:"stakeholder_report,omitempty"`
}

// Sender delivers messages on one channel. Send returns nil when the provider
// accepted the message; a *PermanentError when trying again cannot help (bad
// number, opted out, 4xx) so the caller fails over at once; any other error is
// transient and retried with backoff.
type Sender interface {
	Send(ctx context.Context, m *Message) (Receipt, error)
}

// Receipt is what the provider said when it took the message.
type Receipt struct {
	ProviderID string // Twilio SID, Slack ts, SMTP Message-ID
	// Recorded says nothing was sent: the message was only recorded
	// (--dry-run). The engine writes it as recorded, never as notified.
	Recorded bool
}

// Reconciler is a Sender that can ask its provider whether m already went
// out: after its sender vanished between the provider call and recording
// the result, the engine asks before sending again. Lookup matches by
// m.Ref among what the provider accepted for m.To at or after since; found
// false with a nil error is the provider's answer that it did not.
type Reconciler interface {
	Lookup(ctx context.Context, m *Message, since time.Time) (rc Receipt, found bool, err error)
}

// Placed is one message a provider lists as taken for an address.
type Placed struct {
	ProviderID string
	At         time.Time // when the provider took it
	// Ended says the provider is done with it (a call completed, busy,
	// unanswered, failed or canceled): no callback of it is still to come.
	Ended bool
}

// PlacedLister is a Sender whose provider lists what it took for an
// address but keeps nothing there that names the message (a call's record
// has neither its TwiML nor its callback URL). The provider's signed
// callbacks, each carrying Message.Callback, name them instead: after a
// sender vanished, the engine matches the list against the callbacks it
// got (router/reconcile.go). Placed lists what the provider took for m.To
// from hikyaku's sender at or after since; all is false when the list was
// cut before reaching since, so something may be missing from it.
type PlacedLister interface {
	Placed(ctx context.Context, m *Message, since time.Time) (placed []Placed, all bool, err error)
}

// PermanentError marks a failure that retrying will not fix.
type PermanentError struct {
	Code string // provider's code, e.g. Twilio 21211
	// Auth says the provider refused hikyaku itself (credentials refused,
	// account suspended or revoked): no message on it can succeed until an
	// admin acts, whoever it is for.
	Auth bool
	Err  error
}

func (e *PermanentError) Error() string {
	if e.Code != "" {
		return fmt.Sprintf("permanent failure (%s): %v", e.Code, e.Err)
	}
	return fmt.Sprintf("permanent failure: %v", e.Err)
}

func (e *PermanentError) Unwrap() error { return e.Err }

// Permanent wraps err as a PermanentError with the provider's code.
func Permanent(code string, err error) error { return &PermanentError{Code: code, Err: err} }

// AuthFailure wraps err as a PermanentError saying the provider refused
// hikyaku's own credentials or account.
func AuthFailure(code string, err error) error {
	return &PermanentError{Code: code, Auth: true, Err: err}
}

// IsAuthFailure tells whether err (or what it wraps) is an AuthFailure.
func IsAuthFailure(err error) bool {
	var p *PermanentError
	return errors.As(err, &p) && p.Auth
}

// IsPermanent tells whether err (or what it wraps) is a PermanentError.
func IsPermanent(err error) bool {
	var p *PermanentError
	return errors.As(err, &p)
}
