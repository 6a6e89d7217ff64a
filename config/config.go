// Package config loads hikyaku's one YAML file: people, departments, rotations,
// escalation policies and routes, validated with FILE:LINE:COL errors and reloadable.
package config

import (
	"time"

	"github.com/prometheus/alertmanager/pkg/labels"
	"github.com/prometheus/alertmanager/timeinterval"
)

// Config is the whole file. Fields tagged `yaml:"-"` are derived by Load
// (parsed matchers, time zones, indexes) so no other package parses again.
type Config struct {
	Global        Global              `yaml:"global"`
	Providers     Providers           `yaml:"providers"`
	Receivers     []Receiver          `yaml:"receivers"`
	TimeIntervals []NamedTimeInterval `yaml:"time_intervals"`
	Users         []*User             `yaml:"users"`
	ChatChannels  []*ChatChannel      `yaml:"chat_channels"`
	Departments   []*Department       `yaml:"departments"`
	Policies      []*Policy           `yaml:"escalation_policies"`
	Routes        []*Route            `yaml:"routes"`
	DefaultRoute  *Route              `yaml:"default_route"`
	Maintenance   []*Maintenance      `yaml:"maintenance_windows"`
	Heartbeats    []*Heartbeat        `yaml:"heartbeats"`
	Templates     Templates           `yaml:"templates"`
	SignIn        *SignIn             `yaml:"sign_in"`
	File          string              `yaml:"-"` // path it was loaded from
	Warnings      []Error             `yaml:"-"` // problems that do not stop loading (unset secrets)
	// ProviderProblems are the channels in use whose provider is missing or
	// lacks its credential, each at the missing piece: `hikyaku serve`
	// refuses to start with any of them unless --dry-run (docs/operations.md).
	ProviderProblems Errors `yaml:"-"`
	// ReceiverProblems are receivers whose credential is unset (every post
	// would be 401, which Alertmanager does not retry) or a file with no
	// receiver at all: `hikyaku serve` refuses to start with any of them.
	ReceiverProblems Errors `yaml:"-"`
	intervals        map[string][]timeinterval.TimeInterval
	usersByID        map[string]*User
	channelsByID     map[string]*ChatChannel
	departmentsByID  map[string]*Department
	rotationsByID    map[string]*Rotation
	schedulesByID    map[string]*Schedule
	policiesByID     map[string]*Policy
	routesByName     map[string]*Route
	// channels are the specs it was validated with (UseChannels), in failover order.
	channels []ChannelSpec
}

// Global holds daemon-wide settings.
type Global struct {
	// ExternalURL is how people and providers reach hikyaku (links, Twilio signatures).
	ExternalURL string `yaml:"external_url"`
	// TimeZone is the default for users and rotations that name none.
	TimeZone string `yaml:"timezone"`
	// Language is the default message language, "ja" or "en".
	Language string `yaml:"language"`
	// APIToken is the shared token of /api/v1 (incidents, ack, on-call),
	// which acts under the service name "api", never as a person; people
	// use tokens of their own (hikyaku token create).
	APIToken Secret `yaml:"api_token"`
	// Authorization is "roles" (what departments[].roles allow) or
	// "any_user" (any configured user acts on any incident). Load fills in
	// the default: roles when a department gives roles, else any_user.
	Authorization string `yaml:"authorization"`
	// SigningKey signs what hikyaku hands out and must recognise later: email
	// reply addresses and acknowledgement links. Every replica needs the same key.
	SigningKey Secret `yaml:"signing_key"`
	// MaxBodyBytes bounds a webhook body; larger bodies get 413.
	MaxBodyBytes int64 `yaml:"max_body_bytes"`
	// MaxInflightBodyBytes bounds the webhook bodies being read and handled
	// at once, each counted by its Content-Length; beyond it the webhook
	// answers 503 with Retry-After, which Alertmanager retries.
	MaxInflightBodyBytes int64 `yaml:"max_inflight_body_bytes"`
	// TimerMaxAttempts bounds the attempts of one timer whose handler keeps
	// failing (an expired lease counts as one) before it is dead-lettered.
	TimerMaxAttempts int `yaml:"timer_max_attempts"`
	// Retention is how long a resolved incident is kept (from its resolve
	// time) before the retention job deletes it with its timeline.
	Retention Duration `yaml:"retention"`
	// StaleAfter is how long an open or acked incident may go without an
	// Alertmanager post before it is reported stale (never closed).
	StaleAfter Duration       `yaml:"stale_after"`
	Location   *time.Location `yaml:"-"`
	// IncidentRoles are the display names of the incident roles (incidents.go).
	IncidentRoles IncidentRoles `yaml:"incident_roles"`
	// ContactsVerifiedWithin is how recently an acknowledged test page must
	// have verified a contact method for hikyaku_contacts_unverified to
	// leave it out; default 35d.
	ContactsVerifiedWithin Duration `yaml:"contacts_verified_within"`
}

// Providers are the outbound services. Each is optional; a person's channel
// whose provider is missing fails over to their next contact method.
type Providers struct {
	Twilio *Twilio `yaml:"twilio"`
	SMTP   *SMTP   `yaml:"smtp"`
	Slack  *Slack  `yaml:"slack"`
	// Others are the sections of providers config has no type of its own
	// for (providers.ntfy): any name a registered channel's provider claims.
	Others map[string]*ProviderSettings `yaml:"-"`
}

// Twilio sends SMS and voice calls.
type Twilio struct {
	AccountSID string `yaml:"account_sid"`
	AuthToken  Secret `yaml:"auth_token"`
	From       string `yaml:"from"` // E.164 sender number
	// APIURL replaces https://api.twilio.com (tests, regional edges).
	APIURL string `yaml:"api_url"`
	// MaxSMSSegments caps a page's length; text past it is cut, never the id or the ack hint.
	MaxSMSSegments int `yaml:"max_sms_segments"`
	// PerPersonPerMinute caps SMS and calls to one person; extra pages are bundled.
	PerPersonPerMinute int `yaml:"per_person_per_minute"`
	// AccountPerSecond paces the account's SMS and calls together, per
	// replica; 0 (the default) sends as fast as pages come due.
	AccountPerSecond float64 `yaml:"account_per_second"`
}

// SMTP sends email.
type SMTP struct {
	Smarthost string `yaml:"smarthost"` // host:port
	From      string `yaml:"from"`
	Username  string `yaml:"username"`
	Password  Secret `yaml:"password"`
	// TLS is "starttls" (default), "implicit" or "none".
	TLS string `yaml:"tls"`
	// ReplyDomain is the domain of reply addresses that carry an ack token.
	ReplyDomain string `yaml:"reply_domain"`
}

// Slack posts chat messages and receives button presses.
type Slack struct {
	BotToken      Secret `yaml:"bot_token"`
	SigningSecret Secret `yaml:"signing_secret"`
	APIURL        string `yaml:"api_url"` // replaces https://slack.com/api/
}

// Receiver authenticates one Alertmanager receiver posting to the webhook,
// as Alertmanager's http_config can: a bearer token or basic auth.
type Receiver struct {
	Name        string     `yaml:"name"`
	BearerToken Secret     `yaml:"bearer_token"`
	BasicAuth   *BasicAuth `yaml:"basic_auth"`
	// AllowUnauthenticated accepts this receiver's posts from any caller. A
	// receiver must give a credential or say this: an open webhook is a choice.
	AllowUnauthenticated bool `yaml:"allow_unauthenticated"`
}

// BasicAuth is a username and a secret password.
type BasicAuth struct {
	Username string `yaml:"username"`
	Password Secret `yaml:"password"`
}

// NamedTimeInterval is Alertmanager's time_intervals entry, unchanged, so
// admins reuse what they already wrote there.
type NamedTimeInterval struct {
	Name          string                      `yaml:"name"`
	TimeIntervals []timeinterval.TimeInterval `yaml:"time_intervals"`
}

// User is a person who can be paged or informed.
type User struct {
	ID       string   `yaml:"id"`
	Name     string   `yaml:"name"`
	Language string   `yaml:"language"` // "ja" or "en"; default global.language
	TimeZone string   `yaml:"timezone"`
	Contacts Contacts `yaml:"contacts"`
	// Notify is the person's own rules: which channels fire how long after they are paged.
	Notify   []NotifyRule   `yaml:"notify"`
	Location *time.Location `yaml:"-"`
	// Endpoints are the contacts that name their own server or token
	// (ChannelSpec.Endpoint), by channel; Contacts holds their address.
	Endpoints map[Channel]Endpoint `yaml:"-"`
}

// Contacts are a person's contact points by channel name (sms: E.164,
// slack: a Slack user id…): an open mapping whose keys are the registered
// channels and whose values each channel's provider checks.
type Contacts map[string]string

// Channel names a way to reach a person.
type Channel string

// The built-in channels, named where hikyaku's own code must tell them apart
// (inbound replies). Which channels exist is the registry's (UseChannels).
const (
	ChannelSMS     Channel = "sms"
	ChannelVoice   Channel = "voice"
	ChannelEmail   Channel = "email"
	ChannelSlack   Channel = "slack"
	ChannelWebhook Channel = "webhook"
)

// NotifyRule fires Channels After the person is paged, unless the incident was acked.
type NotifyRule struct {
	After    Duration  `yaml:"after"`
	Channels []Channel `yaml:"channels"`
}

// ChatChannel is a shared channel: a Slack channel or a generic webhook.
type ChatChannel struct {
	ID    string `yaml:"id"`
	Name  string `yaml:"name"`
	Slack string `yaml:"slack"` // Slack channel id, e.g. C012AB3CD
	// Webhook posts a JSON body rendered from Template (Teams, Mattermost, Discord…).
	Webhook  string `yaml:"webhook"`
	Template string `yaml:"template"`
	// BearerToken is sent as Authorization on webhook posts.
	BearerToken Secret `yaml:"bearer_token"`
	Language    string `yaml:"language"`
}

// Department is a team that owns rotations and incidents.
type Department struct {
	ID   string `yaml:"id"`
	Name string `yaml:"name"`
	// EscalationPolicy is used by routes to this department that name none.
	EscalationPolicy string `yaml:"escalation_policy"`
	// BusinessHours names a time interval; routes and reports may refer to it.
	BusinessHours string       `yaml:"business_hours"`
	Rotations     []*Rotation  `yaml:"rotations"`
	Schedules     []*Schedule  `yaml:"schedules"`
	Stakeholders  Stakeholders `yaml:"stakeholders"`
	// Roles say who administers, responds to and views its incidents.
	Roles Roles `yaml:"roles"`
	// TimeZone is the zone the department's incident timelines are written
	// in; default global.timezone.
	TimeZone string         `yaml:"timezone"`
	Location *time.Location `yaml:"-"`
	// Drill is the monthly contact check (drill.go); nil for none.
	Drill *Drill `yaml:"drill"`
	// HealthReport sends the department's on-call health report on a schedule.
	HealthReport *HealthReport `yaml:"health_report"`
}

// Stakeholders are informed of incidents, never paged.
type Stakeholders struct {
	Users        []string `yaml:"users"`
	ChatChannels []string `yaml:"chat_channels"`
	// UpdateEvery is the period of progress reports while an incident is open.
	UpdateEvery Duration `yaml:"update_every"`
	// Severities: with them, only incidents that held one of these are
	// reported, of every department; without, every incident of this one.
	Severities []string `yaml:"severities"`
}

// Rotation hands on-call duty from member to member every Shift.
type Rotation struct {
	ID       string `yaml:"id"`
	Name     string `yaml:"name"`
	TimeZone string `yaml:"timezone"`
	// Start is the first handoff, wall-clock in TimeZone ("2026-01-05 09:00"):
	// Members[0] takes the shift that starts there; every later handoff keeps its wall-clock time.
	Start   Timestamp `yaml:"start"`
	Shift   Duration  `yaml:"shift"`
	Members []string  `yaml:"members"`
	// Changes are later rosters; each restarts the rotation at its time with its first member,
	// so changing who is in the rotation never rewrites who was on call before.
	Changes []RosterChange `yaml:"changes"`
	// Active names time intervals; outside all of them the rotation has nobody on call.
	Active    []string       `yaml:"active"`
	Overrides []Override     `yaml:"overrides"`
	Location  *time.Location `yaml:"-"`
	StartTime time.Time      `yaml:"-"`
}

// RosterChange restarts a rotation with new members at At.
type RosterChange struct {
	At      Timestamp `yaml:"at"`
	Members []string  `yaml:"members"`
	Time    time.Time `yaml:"-"`
}

// Override puts User on call from Start to End, whoever the rotation says.
type Override struct {
	User      string    `yaml:"user"`
	Start     Timestamp `yaml:"start"`
	End       Timestamp `yaml:"end"`
	StartTime time.Time `yaml:"-"`
	EndTime   time.Time `yaml:"-"`
}

// Schedule layers rotations: the first layer that has someone on call wins
// (follow-the-sun, holiday cover).
type Schedule struct {
	ID        string     `yaml:"id"`
	Name      string     `yaml:"name"`
	Layers    []string   `yaml:"layers"` // rotation ids, highest first
	Overrides []Override `yaml:"overrides"`
}

// Policy is an escalation policy: steps tried in order until someone acks.
type Policy struct {
	ID    string `yaml:"id"`
	Name  string `yaml:"name"`
	Steps []Step `yaml:"steps"`
	// Repeat runs the whole policy this many more times after the last step.
	Repeat int `yaml:"repeat"`
	// AckTimeout re-escalates an acked incident still unresolved after it.
	AckTimeout Duration `yaml:"ack_timeout"`
	// AckerBecomesIC names whoever acknowledges the incident's IC when the
	// role is free; unset means true (incidents.go).
	AckerBecomesIC *bool `yaml:"acker_becomes_ic"`
}

// Step pages its targets, then waits EscalateAfter for an ack.
type Step struct {
	Targets       Targets  `yaml:"targets"`
	EscalateAfter Duration `yaml:"escalate_after"`
	// Fallback is a user paged when the targets have nobody on call; without it the
	// step is recorded as empty and the next step fires at once.
	Fallback string `yaml:"fallback"`
}

// Targets are who a step pages.
type Targets struct {
	Rotations    []string `yaml:"rotations"`
	Schedules    []string `yaml:"schedules"`
	Users        []string `yaml:"users"`
	Departments  []string `yaml:"departments"` // every rotation and schedule of the department
	ChatChannels []string `yaml:"chat_channels"`
}

// Route picks department, policy and severity for alerts whose labels match.
type Route struct {
	Name     string   `yaml:"name"`
	Matchers []string `yaml:"matchers"` // Alertmanager matcher syntax: team="payments", severity=~"critical|page"
	// Department and EscalationPolicy; the policy defaults to the department's.
	Department       string `yaml:"department"`
	EscalationPolicy string `yaml:"escalation_policy"`
	// Severity is fixed when set; otherwise read from SeverityLabel through SeverityMap.
	Severity      string            `yaml:"severity"`
	SeverityLabel string            `yaml:"severity_label"`
	SeverityMap   map[string]string `yaml:"severity_map"`
	// ActiveTimeIntervals: outside all of them, Inactive says what happens.
	ActiveTimeIntervals []string `yaml:"active_time_intervals"`
	// Inactive is "hold" (default: page when the next active interval starts),
	// "stakeholders" (inform stakeholders, page nobody) or "skip" (try the next routes).
	Inactive string `yaml:"inactive"`
	// Continue goes on matching later routes after this one.
	Continue bool `yaml:"continue"`
	// Drop records nothing and pages nobody.
	Drop           bool            `yaml:"drop"`
	ParsedMatchers labels.Matchers `yaml:"-"`
}

// Maintenance is a window during which incidents are recorded but nobody is paged.
type Maintenance struct {
	Name        string   `yaml:"name"`
	Departments []string `yaml:"departments"`
	Routes      []string `yaml:"routes"`
	// Either a one-off range, or recurring TimeIntervals (names).
	Start         Timestamp `yaml:"start"`
	End           Timestamp `yaml:"end"`
	TimeIntervals []string  `yaml:"time_intervals"`
	StartTime     time.Time `yaml:"-"`
	EndTime       time.Time `yaml:"-"`
}

// Templates override the default message texts per channel and language:
// each file may redefine any of hikyaku's named templates (hikyaku.sms.page.ja…)
// in Alertmanager's template language. See docs/channels.md.
type Templates struct {
	// Files are paths or globs, relative to this file's directory unless absolute.
	Files []string `yaml:"files"`
	// Loaded is every matched file as read and parsed at load.
	Loaded []TemplateFile `yaml:"-"`
}
