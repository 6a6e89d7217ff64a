// Package store persists hikyaku's incidents, their timelines and the durable timers that drive escalation.
// It has one interface with two implementations: an embedded bbolt file for a single daemon, and Redis for replicas.
package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// Status is where an incident stands in its life.
type Status string

const (
	StatusOpen     Status = "open"
	StatusAcked    Status = "acked"
	StatusResolved Status = "resolved"
)

// Incident is one Alertmanager group's incident. The store indexes ID, Key and Status; the rest is stored as JSON.
type Incident struct {
	ID         int64           `json:"id"`  // short numeric id people type in an SMS reply; assigned by the store from a counter starting at 1
	Key        string          `json:"key"` // dedup key (receiver + "/" + groupKey); at most one non-resolved incident per Key
	Status     Status          `json:"status"`
	CreatedAt  time.Time       `json:"created_at"`
	UpdatedAt  time.Time       `json:"updated_at"`
	AckedAt    time.Time       `json:"acked_at,omitzero"`
	AckedBy    string          `json:"acked_by,omitempty"`
	ResolvedAt time.Time       `json:"resolved_at,omitzero"`
	Department string          `json:"department,omitempty"`
	Policy     string          `json:"policy,omitempty"`
	Route      string          `json:"route,omitempty"`
	Severity   string          `json:"severity,omitempty"`
	Escalation Escalation      `json:"escalation"`
	Message    json.RawMessage `json:"message,omitempty"` // the latest Alertmanager webhook message, as received
	Version    int64           `json:"version"`           // bumped by the store on every write of a changed field; appending events or changing timers keeps it
	// Handled keeps the last inbound requests (Twilio MessageSid, Slack action ids…)
	// that acted on this incident, so a provider's retry does not act twice.
	Handled []string `json:"handled,omitempty"`
	// Group is the Alertmanager group's key (receiver + "/" + groupKey): the
	// Key of the group's first incident, which continue routes' incidents share.
	Group string `json:"group,omitempty"`
	// Continued lists, on a group's first incident, the keys of the incidents
	// its continue routes opened, so Alertmanager's updates and resolved reach
	// them whatever the routes in force say.
	Continued []string `json:"continued,omitempty"`
	// Wait is set while an open incident pages nobody yet (maintenance, hold,
	// stakeholders only); nil once its escalation started.
	Wait *Wait `json:"wait,omitempty"`
	// LastAlertAt is when Alertmanager last posted about the incident.
	LastAlertAt time.Time `json:"last_alert_at,omitzero"`
	// StaleReportedAt is when retention last reported the incident stale.
	StaleReportedAt time.Time `json:"stale_reported_at,omitzero"`
	// Roles and Report are how the incident is being run (incident_run.go).
	Roles  map[string]string `json:"roles,omitempty"`
	Report *ReportFields     `json:"report,omitempty"`
	// Test is set on a test page (a contact check): it pages one person
	// like any incident but counts in no MTTA/MTTR, report or default list.
	Test *TestPage `json:"test,omitempty"`
	// Drill is set on a drill's own incident (with Test, so it counts
	// nowhere either): it pages nobody itself, its test pages do.
	Drill *Drill `json:"drill,omitempty"`
	// Reports is when stakeholders hear next and what they heard last.
	Reports *ReportState `json:"reports,omitempty"`
}

// TestPage is what a test page's incident is for.
type TestPage struct {
	User        string `json:"user"`                   // who is paged
	Channel     string `json:"channel,omitempty"`      // the one contact method tried; "" follows the person's notification rules
	RequestedBy string `json:"requested_by,omitempty"` // who asked for it (a user id, or the console's signed-in person)
	Rotation    string `json:"rotation,omitempty"`     // the rotation or schedule whose on-call was paged, if one was named
	Drill       int64  `json:"drill,omitempty"`        // the drill's incident, for a drill's test page
}

// Drill is a department's contact check: every responder paged on each
// of their contact methods, one test page each, and a report to the
// department's admins and stakeholders when the answer window closes.
type Drill struct {
	RequestedBy string        `json:"requested_by,omitempty"` // who ran it by hand; "" for the schedule
	Scheduled   time.Time     `json:"scheduled,omitzero"`     // the scheduled time it ran for
	Until       time.Time     `json:"until"`                  // the answer window's end: the report
	Targets     []DrillTarget `json:"targets"`
	// NoContact are the responders with no contact method at all.
	NoContact  []string  `json:"no_contact,omitempty"`
	ReportedAt time.Time `json:"reported_at,omitzero"`
}

// DrillTarget is one person's one contact method in a drill, and, once
// reported, how it went.
type DrillTarget struct {
	User     string `json:"user"`
	Channel  string `json:"channel"`
	Incident int64  `json:"incident,omitempty"` // its test page, 0 until opened
	// Result is acked, unanswered or failed, set by the report.
	Result  string    `json:"result,omitempty"`
	AckedAt time.Time `json:"acked_at,omitzero"`
	AckedBy string    `json:"acked_by,omitempty"`
	AckVia  string    `json:"ack_via,omitempty"`
	// AckSeconds is from the test page's opening to its ack.
	AckSeconds float64 `json:"ack_seconds,omitempty"`
	Error      string  `json:"error,omitempty"` // why it failed
}

// Wait is why an incident pages nobody yet, and when it is routed again.
type Wait struct {
	Reason string    `json:"reason"`           // maintenance, hold or stakeholders
	Window string    `json:"window,omitempty"` // the maintenance window's name
	Until  time.Time `json:"until"`            // when the incident is routed again
	// Reporting is set when stakeholder reports are already running, so
	// leaving the wait does not start a second series.
	Reporting bool `json:"reporting,omitempty"`
}

// Escalation is how far an incident's escalation policy has gone.
type Escalation struct {
	Step       int  `json:"step"`       // index of the last fired step, -1 before the first
	Round      int  `json:"round"`      // repeat round, 0-based
	Generation int  `json:"generation"` // bumped on ack/escalate/re-route so stale timers can be recognised
	Exhausted  bool `json:"exhausted,omitempty"`
}

// Event is one line of an incident's timeline.
type Event struct {
	At     time.Time         `json:"at"`
	Type   string            `json:"type"` // created, routed, step_fired, notified, acked, escalated, resolved, exhausted, ...
	Actor  string            `json:"actor,omitempty"`
	Detail map[string]string `json:"detail,omitempty"`
}

// Timer is a durable due-time job: an escalation step coming due, or an outbox notification to send.
type Timer struct {
	ID         string    `json:"id"` // idempotency key: scheduling an ID that already exists (pending or claimed) is a no-op
	IncidentID int64     `json:"incident_id"`
	Due        time.Time `json:"due"`
	Kind       string    `json:"kind"` // e.g. "step", "notify"
	Payload    []byte    `json:"payload,omitempty"`
	Attempt    int       `json:"attempt,omitempty"`
	// TakenOver is set when a claim of this timer ended without its holder
	// completing, retrying or releasing it (its lease expired, or the
	// embedded daemon died holding it): that holder may have been mid-send,
	// so a message may be out. The holder sets it itself when it retries a
	// send that got no answer (Retry keeps it). The claim itself is the
	// record of intent; this stays set until the timer is removed, so each
	// later attempt asks the provider first (router/reconcile.go).
	TakenOver bool `json:"taken_over,omitempty"`
}

// Claim is a timer held by one owner until LeaseUntil; after that another owner may claim it again.
type Claim struct {
	Timer
	Owner      string
	Token      string
	LeaseUntil time.Time
}

// Change is what an update writes, atomically with the incident.
//
// Cancel is applied before Schedule, so cancelling and scheduling the same ID
// in one Change replaces a timer (new Due, Attempt reset).
type Change struct {
	Incident             *Incident // state to write; nil writes nothing (fn decided there is nothing to do)
	Events               []Event   // appended to the incident's timeline, in order
	Schedule             []Timer   // added unless a timer with that ID already exists; IncidentID filled in by the store if 0 (needed for new incidents)
	Cancel               []string  // timer IDs removed (pending or claimed)
	CancelIncidentTimers bool      // remove every timer of this incident except those in Schedule
	// Complete is a claimed timer this write completes: it is removed with
	// the write, and the whole write fails with ErrStaleClaim, writing
	// nothing, unless the claim (its Token) is still the timer's. A sender
	// records its message this way, fenced: a holder that lost its claim
	// cannot remove the timer from under the replica that took it over.
	Complete *Claim
	// Deliveries are the messages this write records as sent (deliveries.go);
	// Incident is filled in by the store.
	Deliveries []Delivery
	// Outcome is what fn found out, handed back in the Result (see
	// OutcomeOf); the store never reads it. A Change with only an Outcome
	// writes nothing.
	Outcome any
}

var (
	ErrNotFound   = errors.New("store: not found")
	ErrStaleClaim = errors.New("store: claim no longer held") // Complete/Retry after the lease passed to someone else
	// ErrKeyConflict is returned when a write would leave two non-resolved incidents with one Key
	// (reopening a resolved incident whose key a newer incident holds) or would change an incident's Key.
	ErrKeyConflict = errors.New("store: key held by another incident")
)

// ListOptions filters List and Query. Every filter set must match; the
// empty value of each matches everything. Times are half-open ranges:
// [After, Before).
type ListOptions struct {
	Status Status // "" = all
	Limit  int    // 0 = no limit (List); Query caps it at MaxPage
	// Facets, compared exactly.
	Department, Severity, Route, Policy, AckedBy string
	Drills                                       bool      // only drills' own incidents (Incident.Drill)
	OpenedAfter, OpenedBefore                    time.Time // on CreatedAt
	ResolvedAfter, ResolvedBefore                time.Time // on ResolvedAt; either one set orders by ResolvedAt
	Oldest                                       bool      // oldest first; newest first by default
	// Cursor is a Page's Next: the page after it, with the same filters.
	Cursor string
}

// Store is the engine's persistence: every part below, implemented together
// so one write can span them (an incident, its timeline and its timers in one
// atomic write). Implementations are safe for concurrent use, also from
// several processes sharing one Redis. A fake, or a future store, can be built
// part by part: the conformance suite (store/storetest) tests each part on its own.
type Store interface {
	Incidents
	Timelines
	Timers
	RateWindows
	OptOuts
	DeadLetters
	Replays
	Tokens
	CalendarTokens
	Deliveries
	Overrides
	Verifications
	// Ping checks the store can serve writes, for readiness: Redis answers
	// PING; the embedded file takes a small write and has room to grow.
	Ping(ctx context.Context) error
	Close() error
}

// UpdateFunc decides an update: given the incident as it stands (nil if
// none), it returns the Change to write. It may be called more than once
// (optimistic concurrency) and must have no side effects; what it found out
// goes in Change.Outcome, which the Result of the run that counted carries.
type UpdateFunc func(cur *Incident) (*Change, error)

// Result is what an update did.
type Result struct {
	// Incident is the incident as written, or as it stands when nothing was
	// written (nil when UpdateByKey found none and wrote none).
	Incident *Incident
	// Written is set when the Change was applied: its incident, events and timers.
	Written bool
	// Outcome is the Outcome of the Change the counting run of fn returned
	// (nil when it returned none).
	Outcome any
}

// OutcomeOf is r's Outcome as a T, or T's zero value when it has none.
func OutcomeOf[T any](r Result) T {
	v, _ := r.Outcome.(T)
	return v
}

// Incidents holds the incidents and their indexes.
type Incidents interface {
	// UpdateByKey loads the non-resolved incident with this key (nil if none), calls fn, and writes the Change atomically.
	// If fn returns a Change whose Incident has ID 0, the store assigns the next ID (so a new incident is created).
	// Two concurrent callers with the same key must never create two incidents. Writing an incident with Status resolved frees the key.
	// An error, fn's own (wrapped) or the store's, comes with an empty Result.
	UpdateByKey(ctx context.Context, key string, fn UpdateFunc) (Result, error)
	// Update is UpdateByKey for a known id; ErrNotFound when missing.
	Update(ctx context.Context, id int64, fn UpdateFunc) (Result, error)
	Get(ctx context.Context, id int64) (*Incident, error)
	List(ctx context.Context, opt ListOptions) ([]*Incident, error) // newest first
	// Query is List with pagination: one page of at most opt.Limit (capped
	// at MaxPage) incidents, served by an index, and the cursor of the next.
	Query(ctx context.Context, opt ListOptions) (Page, error)
	// DeleteResolved deletes up to max incidents resolved before cutoff, with
	// their timelines, timers and index entries, in one atomic write, oldest
	// first, and returns how many it deleted. Open and acked incidents are
	// never deleted. Safe to run from several replicas at once.
	DeleteResolved(ctx context.Context, cutoff time.Time, max int) (int, error)
}

// Timelines reads the incidents' timelines; events are appended through an
// incident's Change, never rewriting the incident.
type Timelines interface {
	Timeline(ctx context.Context, id int64) ([]Event, error)
}

// Timers are the durable due-time jobs: claimed by one owner at a time, under a lease.
type Timers interface {
	// ClaimDue hands out up to max timers with Due <= now that nobody holds (or whose lease expired), each to exactly one caller.
	// Redis ignores now and claims on its own clock (TIME), with leases that
	// stop running while Redis is away (docs/store.md); bbolt uses now.
	// Timers with equal Due come out in ID order. A timer whose lease expired comes out with Attempt+1
	// (stored): its holder died or hung mid-handler, and that was an attempt.
	// Such a timer also comes out, and stays, TakenOver.
	ClaimDue(ctx context.Context, now time.Time, owner string, lease time.Duration, max int) ([]Claim, error)
	// Complete removes a claimed timer; ErrStaleClaim if the claim was lost.
	Complete(ctx context.Context, c Claim) error
	// Renew extends a claim still held to lease from now, so a handler still
	// at work keeps its timer; ErrStaleClaim if the claim was lost. Redis
	// judges leases on its own clock and ignores now.
	Renew(ctx context.Context, c Claim, now time.Time, lease time.Duration) error
	// Retry puts a claimed timer back as pending at due with Attempt+1 (transient send failure, backoff chosen by the caller).
	// A c.TakenOver the caller set is kept (its send got no answer and may
	// be out, so the next attempt asks the provider first, as after a
	// takeover), and a stored one is never cleared.
	Retry(ctx context.Context, c Claim, due time.Time) error
	// Release makes every claim held by owner pending again at once (graceful shutdown), so other replicas take them without waiting for the lease.
	Release(ctx context.Context, owner string) error
	// NextDue returns the earliest time a timer becomes claimable (zero time and false if none) so the scheduler can sleep precisely.
	// For a claimed timer that is its LeaseUntil, so a dead replica's work is picked up on time too.
	NextDue(ctx context.Context) (time.Time, bool, error)
	// Pending counts timers not yet completed (for the outbox-depth metric).
	Pending(ctx context.Context) (int, error)
	// SetTimer applies op to a timer that belongs to no incident (IncidentID
	// 0), such as a heartbeat's deadline, and returns the timer as it was
	// before, nil if there was none. For TimerGet and TimerRemove only t.ID
	// counts. A timer that belongs to an incident is refused, unchanged: it
	// changes only with its incident.
	SetTimer(ctx context.Context, op TimerOp, t Timer) (*Timer, error)
}

// RateWindows are the sliding-window send limits, shared by every replica.
type RateWindows interface {
	// Take admits one send under key when fewer than limit were admitted in
	// the sliding window (now-window, now], and records it; otherwise ok is
	// false and next is when a slot frees. Concurrent callers, also on other
	// replicas, never get more than limit admitted per window.
	Take(ctx context.Context, key string, limit int, window time.Duration, now time.Time) (ok bool, next time.Time, err error)
}

// OptOuts are the addresses that said STOP.
type OptOuts interface {
	// SetOptOut records that address (an SMS number) sent STOP, or with out false
	// that it sent START again. Every replica must see it, as it sees incidents.
	SetOptOut(ctx context.Context, address string, out bool) error
	// OptedOut says whether address has opted out and not back in.
	OptedOut(ctx context.Context, address string) (bool, error)
}

// TimerOp is what SetTimer does.
type TimerOp int

const (
	TimerGet     TimerOp = iota // read it, change nothing
	TimerAdd                    // add it unless a timer with its ID exists
	TimerReplace                // add it, or put it in place of the one there, pending or claimed (a claim on that one is lost: ErrStaleClaim)
	TimerRemove                 // remove it, pending or claimed
)

func (op TimerOp) String() string {
	switch op {
	case TimerGet:
		return "get"
	case TimerAdd:
		return "add"
	case TimerReplace:
		return "replace"
	case TimerRemove:
		return "remove"
	}
	return fmt.Sprintf("TimerOp(%d)", int(op))
}

// checkStandalone refuses what SetTimer must not do, before touching anything.
func checkStandalone(op TimerOp, t Timer) error {
	switch {
	case op < TimerGet || op > TimerRemove:
		return fmt.Errorf("store: set timer %q: unknown op %v", t.ID, op)
	case t.ID == "":
		return fmt.Errorf("store: set timer: no ID")
	case t.IncidentID != 0:
		return fmt.Errorf("store: set timer %q: it names incident %d; an incident's timers change only with it", t.ID, t.IncidentID)
	}
	return nil
}

// errIncidentTimer is SetTimer's refusal of a timer an incident owns.
func errIncidentTimer(id string, incident int64) error {
	return fmt.Errorf("store: set timer %q: it belongs to incident %d; an incident's timers change only with it", id, incident)
}

// Replays is the durable replay record: the inbound requests (Twilio's
// MessageSid, a Slack action, a signed link) that acted already, so one
// captured and sent again later does nothing. It outlives the incident's
// small Handled window, for as long as its ttl says.
type Replays interface {
	// Seen records key until ttl from now and says whether this call is its
	// first sighting (never recorded, or the record expired). It is an atomic
	// set-if-absent: of concurrent callers, also on other replicas, one gets
	// first. Expiry runs on the store's clock (Redis's in Redis mode).
	Seen(ctx context.Context, key string, ttl time.Duration) (first bool, err error)
	// Unsee forgets key, so a request whose action could not be recorded can
	// act when it is sent again. Forgetting an unknown key is no error.
	Unsee(ctx context.Context, key string) error
	// WasSeen says whether key's record exists and has not expired, and
	// writes nothing: a read-only look for a page that must not act (a
	// link's GET).
	WasSeen(ctx context.Context, key string) (bool, error)
}
