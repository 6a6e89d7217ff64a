package config

import (
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/alertmanager/pkg/labels"
	"github.com/prometheus/alertmanager/timeinterval"

	"github.com/hikyaku/hikyaku/catalog"
)

// Defaults applied by Load where the file says nothing.
const (
	DefaultTimeZone       = "UTC"
	DefaultLanguage       = "en"
	DefaultMaxBodyBytes   = 4 << 20
	DefaultEscalateAfter  = 5 * time.Minute
	DefaultUpdateEvery    = 30 * time.Minute
	DefaultMaxSMSSegments = 3
	DefaultTwilioAPIURL   = "https://api.twilio.com"
	DefaultSlackAPIURL    = "https://slack.com/api/"
	DefaultSeverityLabel  = "severity"
	// DefaultVoiceDelay is when a voice call follows the first page for users without rules.
	DefaultVoiceDelay = 3 * time.Minute
)

// DefaultInflightBodies is how many bodies of max_body_bytes the default
// max_inflight_body_bytes admits at once.
const DefaultInflightBodies = 8

// MinInflightBodyBytes is the least max_inflight_body_bytes: the largest
// Slack interaction body the router takes.
const MinInflightBodyBytes = 1 << 20

// A timer whose handler keeps failing is dead-lettered after
// global.timer_max_attempts attempts. The least is the outbox's own bound
// (router.Options.MaxAttempts, 5): a notification retries its sends that
// often before it fails over, and those attempts must not dead-letter it.
const (
	DefaultTimerMaxAttempts = 10
	MinTimerMaxAttempts     = 5
)

// Retention of resolved incidents, and when an open one counts as stale.
const (
	DefaultRetention  = 400 * 24 * time.Hour // a yearly review, with a month to spare
	MinRetention      = 24 * time.Hour
	DefaultStaleAfter = 7 * 24 * time.Hour
	// MinStaleAfter is above Alertmanager's default repeat_interval (4h),
	// which re-posts a firing group that often.
	MinStaleAfter = 12 * time.Hour
)

var (
	e164Re = regexp.MustCompile(`^\+[1-9][0-9]{6,14}$`)
	idRe   = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]*$`)
	// Slack ids: users U…/W…, channels C…/G…/D…, upper-case alphanumerics.
	slackChannelRe = regexp.MustCompile(`^[CGD][A-Z0-9]{2,}$`)
)

// validate checks meaning (references, formats, ranges), fills defaults and
// derived fields, and builds the lookup indexes. It reports every problem.
func (l *loader) validate(c *Config) {
	c.intervals = map[string][]timeinterval.TimeInterval{}
	c.usersByID = map[string]*User{}
	c.channelsByID = map[string]*ChatChannel{}
	c.departmentsByID = map[string]*Department{}
	c.rotationsByID = map[string]*Rotation{}
	c.schedulesByID = map[string]*Schedule{}
	c.policiesByID = map[string]*Policy{}
	c.routesByName = map[string]*Route{}
	c.channels = knownChannels()

	l.validateGlobal(c)
	l.validateProviders(c)
	l.validateOpenProviders(c)
	l.validateReceivers(c)
	for i, ti := range c.TimeIntervals {
		p := fmt.Sprintf("time_intervals[%d]", i)
		if l.checkID(p+".name", ti.Name, "time interval") && c.intervals[ti.Name] != nil {
			l.errAt(p+".name", fmt.Sprintf("duplicate time interval %q", ti.Name))
		}
		if len(ti.TimeIntervals) == 0 && !l.undecoded(p+".time_intervals") {
			l.errAt(p, fmt.Sprintf("time interval %q has no time_intervals: it would never match", ti.Name))
		}
		c.intervals[ti.Name] = ti.TimeIntervals
	}
	for i, u := range c.Users {
		l.validateUser(c, u, fmt.Sprintf("users[%d]", i))
	}
	for i, ch := range c.ChatChannels {
		l.validateChatChannel(c, ch, fmt.Sprintf("chat_channels[%d]", i))
	}
	l.checkProviders(c)
	l.validateSignIn(c)
	l.validateTemplates(c)
	// Index every department, rotation and schedule before checking references,
	// so a reference may point forward in the file.
	// Rotations and schedules share one namespace: a layer or a step names either.
	isRotation := func(id string) bool { return c.rotationsByID[id] != nil }
	isSchedule := func(id string) bool { return c.schedulesByID[id] != nil }
	for i, d := range c.Departments {
		p := fmt.Sprintf("departments[%d]", i)
		register(l, c.departmentsByID, p+".id", d.ID, "department", "department", d, nil)
		for j, r := range d.Rotations {
			register(l, c.rotationsByID, fmt.Sprintf("%s.rotations[%d].id", p, j), r.ID, "rotation", "rotation or schedule", r, isSchedule)
		}
		for j, sc := range d.Schedules {
			register(l, c.schedulesByID, fmt.Sprintf("%s.schedules[%d].id", p, j), sc.ID, "schedule", "rotation or schedule", sc, isRotation)
		}
	}
	for i, p := range c.Policies {
		register(l, c.policiesByID, fmt.Sprintf("escalation_policies[%d].id", i), p.ID, "escalation policy", "escalation policy", p, nil)
	}
	for i, d := range c.Departments {
		l.validateDepartment(c, d, fmt.Sprintf("departments[%d]", i))
	}
	l.validateRoles(c)
	l.warnPagedWithoutRole(c)
	for i, d := range c.Departments {
		l.validateHealthReport(c, d, fmt.Sprintf("departments[%d]", i))
	}
	for i, p := range c.Policies {
		l.validatePolicy(c, p, fmt.Sprintf("escalation_policies[%d]", i))
	}
	for i, r := range c.Routes {
		p := fmt.Sprintf("routes[%d]", i)
		if r.Name == "" {
			r.Name = fmt.Sprintf("route-%d", i+1)
		} else if c.routesByName[r.Name] != nil {
			l.errAt(p+".name", fmt.Sprintf("duplicate route name %q", r.Name))
		}
		c.routesByName[r.Name] = r
		l.validateRoute(c, r, p, false)
	}
	if c.DefaultRoute == nil {
		if l.undecoded("default_route") {
			return
		}
		l.errAt("", "default_route is required: it decides what happens to alerts no route matches")
	} else {
		if c.DefaultRoute.Name == "" {
			c.DefaultRoute.Name = "default"
		}
		l.validateRoute(c, c.DefaultRoute, "default_route", true)
	}
	for i, m := range c.Maintenance {
		l.validateMaintenance(c, m, fmt.Sprintf("maintenance_windows[%d]", i))
	}
	l.validateHeartbeats(c)
	if len(c.Policies) == 0 && !l.undecoded("escalation_policies") {
		l.errAt("", "escalation_policies: at least one policy is needed")
	}
}

// register checks id and files v under it in m. An id m already holds is a
// duplicate, as is one that also (when set) says is taken in a namespace m
// shares; dup names the namespace in the message.
func register[T any](l *loader, m map[string]T, path, id, what, dup string, v T, also func(string) bool) {
	if !l.checkID(path, id, what) {
		return
	}
	if _, ok := m[id]; ok || (also != nil && also(id)) {
		l.errAt(path, fmt.Sprintf("duplicate %s id %q", dup, id))
	}
	m[id] = v
}

func (l *loader) checkID(path, id, what string) bool {
	switch {
	case id == "" && l.undecoded(path):
		return false
	case id == "":
		l.errAt(path, fmt.Sprintf("%s needs an id", what))
		return false
	case !idRe.MatchString(id):
		l.errAt(path, fmt.Sprintf("%s id %q: use letters, digits, '.', '_' and '-', starting with a letter or digit", what, id))
		return false
	}
	return true
}

func (l *loader) location(path, name string, fallback *time.Location) *time.Location {
	if name == "" {
		return fallback
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		l.errAt(path, fmt.Sprintf("unknown time zone %q: use an IANA name such as Asia/Tokyo or America/New_York", name))
		return fallback
	}
	return loc
}

// quoteList writes ["en" "ja"] as "en" and "ja".
func quoteList(l []string) string {
	q := make([]string, len(l))
	for i, s := range l {
		q[i] = strconv.Quote(s)
	}
	if len(q) < 2 {
		return strings.Join(q, "")
	}
	return strings.Join(q[:len(q)-1], ", ") + " and " + q[len(q)-1]
}

func (l *loader) language(path string, lang *string, fallback string) {
	switch *lang {
	case "":
		*lang = fallback
	default:
		if !catalog.Has(*lang) {
			l.errAt(path, fmt.Sprintf("language %q: hikyaku speaks %s", *lang, quoteList(catalog.Languages())))
		}
	}
}

// secret checks and resolves a secret; one that cannot be read is a
// warning (the file still loads) and is returned for callers that must say
// more about what it breaks.
func (l *loader) secret(path string, s *Secret, required bool, what string) error {
	if s.IsZero() {
		if required && !l.undecoded(path) {
			l.errAt(path, fmt.Sprintf("%s is required: give file: or env:", what))
		}
		return nil
	}
	n := 0
	for _, v := range []string{s.File, s.Env, s.Value} {
		if v != "" {
			n++
		}
	}
	if n > 1 {
		l.errAt(path, fmt.Sprintf("%s: give only one of file, env and value", what))
		return nil
	}
	if err := s.resolve(); err != nil {
		l.warnAt(path, fmt.Sprintf("%s: %v", what, err))
		return err
	}
	return nil
}

func (l *loader) httpURL(path, raw string) {
	if err := CheckHTTPURL(raw); err != nil {
		l.errAt(path, err.Error())
	}
}

func (l *loader) email(path, addr string) {
	if err := CheckEmail(addr); err != nil {
		l.errAt(path, err.Error())
	}
}

func (l *loader) e164(path, number string) {
	if err := CheckE164(number); err != nil {
		l.errAt(path, err.Error())
	}
}

func (l *loader) validateGlobal(c *Config) {
	g := &c.Global
	if g.TimeZone == "" {
		g.TimeZone = DefaultTimeZone
	}
	g.Location = l.location("global.timezone", g.TimeZone, time.UTC)
	l.language("global.language", &g.Language, DefaultLanguage)
	if g.ExternalURL != "" {
		l.httpURL("global.external_url", g.ExternalURL)
	}
	if g.MaxBodyBytes == 0 {
		g.MaxBodyBytes = DefaultMaxBodyBytes
	} else if g.MaxBodyBytes < 1024 {
		l.errAt("global.max_body_bytes", "max_body_bytes must be at least 1024")
	}
	if g.MaxInflightBodyBytes == 0 {
		g.MaxInflightBodyBytes = DefaultInflightBodies * g.MaxBodyBytes
	} else if g.MaxInflightBodyBytes < max(g.MaxBodyBytes, MinInflightBodyBytes) {
		// A body of max_body_bytes (or a Slack interaction, up to 1 MiB) could never be admitted: 503 for ever.
		l.errAt("global.max_inflight_body_bytes", fmt.Sprintf("max_inflight_body_bytes must be at least max_body_bytes (%d) and 1 MiB, or the largest webhook body or Slack interaction allowed is refused for ever", g.MaxBodyBytes))
	}
	if g.TimerMaxAttempts == 0 {
		g.TimerMaxAttempts = DefaultTimerMaxAttempts
	} else if g.TimerMaxAttempts < MinTimerMaxAttempts {
		l.errAt("global.timer_max_attempts", fmt.Sprintf("timer_max_attempts must be at least %d: a notification's own send retries must fit in it", MinTimerMaxAttempts))
	}
	switch {
	case g.Retention == 0:
		g.Retention = Duration(DefaultRetention)
	case g.Retention.D() < MinRetention:
		l.errAt("global.retention", fmt.Sprintf("retention %s is too short: at least %s, so a resolved incident outlives its last notifications and reports", g.Retention, Duration(MinRetention)))
	}
	switch {
	case g.StaleAfter == 0:
		g.StaleAfter = Duration(DefaultStaleAfter)
	case g.StaleAfter.D() < MinStaleAfter:
		l.errAt("global.stale_after", fmt.Sprintf("stale_after %s is too short: at least %s, longer than Alertmanager's repeat_interval", g.StaleAfter, Duration(MinStaleAfter)))
	}
	l.validateIncidentRoles(&g.IncidentRoles)
	switch {
	case g.ContactsVerifiedWithin == 0:
		g.ContactsVerifiedWithin = Duration(DefaultContactsVerifiedWithin)
	case g.ContactsVerifiedWithin.D() < 24*time.Hour:
		l.errAt("global.contacts_verified_within", fmt.Sprintf("contacts_verified_within %s is too short: at least 1d", g.ContactsVerifiedWithin))
	}
	l.secret("global.api_token", &g.APIToken, false, "api_token")
	l.secret("global.signing_key", &g.SigningKey, false, "signing_key")
	if k, ok := g.SigningKey.Reveal(); ok && len(k) < 16 {
		l.errAt("global.signing_key", "signing_key must be at least 16 characters: it is what makes reply addresses and links unforgeable")
	}
}

func (l *loader) validateProviders(c *Config) {
	if t := c.Providers.Twilio; t != nil {
		if !strings.HasPrefix(t.AccountSID, "AC") {
			l.errAt("providers.twilio.account_sid", fmt.Sprintf("account_sid %q: a Twilio account SID starts with AC", t.AccountSID))
		}
		if err := l.secret("providers.twilio.auth_token", &t.AuthToken, true, "auth_token"); err != nil {
			l.unsetCredential["twilio"] = unsetCredential{"providers.twilio.auth_token", "auth_token: " + err.Error()}
		}
		l.e164("providers.twilio.from", t.From)
		if t.APIURL == "" {
			t.APIURL = DefaultTwilioAPIURL
		} else {
			l.httpURL("providers.twilio.api_url", t.APIURL)
		}
		if t.MaxSMSSegments == 0 {
			t.MaxSMSSegments = DefaultMaxSMSSegments
		} else if t.MaxSMSSegments < 1 || t.MaxSMSSegments > 10 {
			l.errAt("providers.twilio.max_sms_segments", "max_sms_segments must be between 1 and 10")
		}
		if t.PerPersonPerMinute < 0 {
			l.errAt("providers.twilio.per_person_per_minute", "per_person_per_minute cannot be negative")
		}
		if t.AccountPerSecond < 0 {
			l.errAt("providers.twilio.account_per_second", "account_per_second cannot be negative")
		}
	}
	if s := c.Providers.SMTP; s != nil {
		if s.Smarthost == "" || !strings.Contains(s.Smarthost, ":") {
			l.errAt("providers.smtp.smarthost", fmt.Sprintf("smarthost %q: want host:port", s.Smarthost))
		}
		l.email("providers.smtp.from", s.From)
		switch s.TLS {
		case "":
			s.TLS = "starttls"
		case "starttls", "implicit", "none":
		default:
			l.errAt("providers.smtp.tls", fmt.Sprintf("tls %q: want starttls, implicit or none", s.TLS))
		}
		if s.Username != "" {
			if err := l.secret("providers.smtp.password", &s.Password, true, "password"); err != nil {
				l.unsetCredential["smtp"] = unsetCredential{"providers.smtp.password", "password: " + err.Error()}
			}
		}
	}
	if s := c.Providers.Slack; s != nil {
		if err := l.secret("providers.slack.bot_token", &s.BotToken, true, "bot_token"); err != nil {
			l.unsetCredential["slack"] = unsetCredential{"providers.slack.bot_token", "bot_token: " + err.Error()}
		}
		l.secret("providers.slack.signing_secret", &s.SigningSecret, false, "signing_secret")
		if s.APIURL == "" {
			s.APIURL = DefaultSlackAPIURL
		} else {
			l.httpURL("providers.slack.api_url", s.APIURL)
		}
	}
}

// validateOpenProviders checks the sections of providers without a type
// of their own; what their settings mean is their channel's business.
func (l *loader) validateOpenProviders(c *Config) {
	names := slices.Sorted(maps.Keys(c.Providers.Others))
	for _, name := range names {
		ps, p := c.Providers.Others[name], "providers."+name
		if ps.URL != "" {
			l.httpURL(p+".url", ps.URL)
		}
		if err := l.secret(p+".token", &ps.Token, false, "token"); err != nil {
			l.unsetCredential[name] = unsetCredential{p + ".token", "token: " + err.Error()}
		}
	}
}

func (l *loader) validateReceivers(c *Config) {
	seen := map[string]bool{}
	for i := range c.Receivers {
		r := &c.Receivers[i] // secrets resolve in place, not in a copy
		p := fmt.Sprintf("receivers[%d]", i)
		if r.Name == "" {
			if !l.undecoded(p + ".name") {
				l.errAt(p, "receiver needs the name Alertmanager sends as \"receiver\"")
			}
		} else if seen[r.Name] {
			l.errAt(p+".name", fmt.Sprintf("duplicate receiver %q", r.Name))
		}
		seen[r.Name] = true
		hasCredential := !r.BearerToken.IsZero() || r.BasicAuth != nil
		switch {
		case !r.BearerToken.IsZero() && r.BasicAuth != nil:
			l.errAt(p, "give bearer_token or basic_auth, not both")
		case hasCredential && r.AllowUnauthenticated:
			l.errAt(p+".allow_unauthenticated", "allow_unauthenticated accepts any caller: remove it, or remove the credential")
		case !hasCredential && !r.AllowUnauthenticated && !l.undecoded(p):
			l.errAt(p, fmt.Sprintf("receiver %q has no credential: give bearer_token or basic_auth (as Alertmanager's http_config sends), or allow_unauthenticated: true to accept any caller", r.Name))
		}
		const lost = "every post from Alertmanager would be refused with 401, which it does not retry: alerts would be lost; hikyaku serve refuses to start"
		if err := l.secret(p+".bearer_token", &r.BearerToken, false, "bearer_token"); err != nil {
			l.receiverProblem(p+".bearer_token", fmt.Sprintf("receiver %q: bearer_token: %v: %s", r.Name, err, lost))
		}
		if r.BasicAuth != nil {
			if r.BasicAuth.Username == "" {
				l.errAt(p+".basic_auth", "basic_auth needs a username")
			}
			if err := l.secret(p+".basic_auth.password", &r.BasicAuth.Password, true, "password"); err != nil {
				l.receiverProblem(p+".basic_auth.password", fmt.Sprintf("receiver %q: basic_auth password: %v: %s", r.Name, err, lost))
			}
		}
	}
	if len(c.Receivers) == 0 && !l.undecoded("receivers") {
		l.receiverProblem("receivers", "no receivers: the webhook would accept alerts from any caller; add one with bearer_token or basic_auth, or allow_unauthenticated: true to say so; hikyaku serve refuses to start")
	}
}

func (l *loader) receiverProblem(path, msg string) {
	l.receiverProblems = append(l.receiverProblems, l.at(path, msg))
}

func (l *loader) validateUser(c *Config, u *User, p string) {
	register(l, c.usersByID, p+".id", u.ID, "user", "user", u, nil)
	if u.Name == "" {
		u.Name = u.ID
	}
	l.language(p+".language", &u.Language, c.Global.Language)
	u.Location = l.location(p+".timezone", u.TimeZone, c.Global.Location)
	ct := u.Contacts
	l.validateContacts(c, u, p)
	if len(ct) == 0 {
		if l.undecoded(p + ".contacts") {
			return
		}
		l.errAt(p, fmt.Sprintf("user %q has no contacts: hikyaku could never reach them", u.ID))
		return
	}
	if len(u.Notify) == 0 {
		u.Notify = defaultNotify(c.channels, ct)
		return
	}
	for j, r := range u.Notify {
		rp := fmt.Sprintf("%s.notify[%d]", p, j)
		if r.After < 0 {
			l.errAt(rp+".after", "after cannot be negative")
		}
		if len(r.Channels) == 0 && !l.undecoded(rp+".channels") {
			l.errAt(rp, "notification rule names no channels")
		}
		for k, ch := range r.Channels {
			if !u.Contacts.Has(ch) {
				l.errAt(fmt.Sprintf("%s.channels[%d]", rp, k), contactMissing(c, u.ID, ch))
			}
		}
	}
}

func contactMissing(c *Config, user string, ch Channel) string {
	if _, ok := c.ChannelSpec(ch); ok {
		return fmt.Sprintf("user %q has no contacts.%s for channel %q", user, ch, ch)
	}
	return fmt.Sprintf("unknown channel %q: want %s", ch, channelNames(c.channels))
}

// validateContacts asks each contact's channel to check its address, in
// name order; a key no registered channel has is refused.
func (l *loader) validateContacts(c *Config, u *User, p string) {
	keys := slices.Collect(maps.Keys(u.Contacts))
	slices.Sort(keys)
	for _, k := range keys {
		path := p + ".contacts." + k
		spec, ok := c.ChannelSpec(Channel(k))
		switch {
		case !ok && len(c.channels) == 0:
			l.errAt(path, errNoChannels.Error())
		case !ok:
			l.errAt(path, fmt.Sprintf("unknown contact %q: want %s", k, channelNames(c.channels)))
		case u.Contacts[k] == "":
			delete(u.Contacts, k) // an empty value is no contact, as an absent key
		case spec.Endpoint != "":
			l.validateEndpoint(u, k, spec, path)
		case spec.Check != nil:
			if err := spec.Check(u.Contacts[k]); err != nil {
				l.errAt(path, err.Error())
			}
		}
	}
}

// defaultNotify pages every written contact at once, and calls after
// DefaultVoiceDelay: a phone call is the loudest and the last resort.
func defaultNotify(specs []ChannelSpec, ct Contacts) []NotifyRule {
	var now, calls []Channel
	for _, s := range specs {
		switch {
		case !ct.Has(s.Name):
		case s.Written():
			now = append(now, s.Name)
		default:
			calls = append(calls, s.Name)
		}
	}
	var rules []NotifyRule
	if len(now) > 0 {
		rules = append(rules, NotifyRule{Channels: now})
	}
	if len(calls) > 0 {
		after := DefaultVoiceDelay
		if len(now) == 0 {
			after = 0
		}
		rules = append(rules, NotifyRule{After: Duration(after), Channels: calls})
	}
	return rules
}

func (l *loader) validateChatChannel(c *Config, ch *ChatChannel, p string) {
	register(l, c.channelsByID, p+".id", ch.ID, "chat channel", "chat channel", ch, nil)
	if ch.Name == "" {
		ch.Name = ch.ID
	}
	switch {
	case ch.Slack != "" && ch.Webhook != "":
		l.errAt(p, "give slack or webhook, not both")
	case ch.Slack != "":
		if !slackChannelRe.MatchString(ch.Slack) {
			l.errAt(p+".slack", fmt.Sprintf("invalid Slack channel id %q: it looks like C012AB3CD", ch.Slack))
		}
	case ch.Webhook != "":
		l.httpURL(p+".webhook", ch.Webhook)
	case l.undecoded(p+".slack") || l.undecoded(p+".webhook"):
	default:
		l.errAt(p, fmt.Sprintf("chat channel %q needs slack or webhook", ch.ID))
	}
	l.language(p+".language", &ch.Language, c.Global.Language)
	l.secret(p+".bearer_token", &ch.BearerToken, false, "bearer_token")
}

func (l *loader) userRef(c *Config, path, id string) {
	if c.usersByID[id] == nil {
		l.unknownRef("users", path, fmt.Sprintf("unknown user %q", id))
	}
}

func (l *loader) intervalRef(c *Config, path, name string) {
	if _, ok := c.intervals[name]; !ok {
		l.unknownRef("time_intervals", path, fmt.Sprintf("unknown time interval %q: define it under time_intervals", name))
	}
}

func (l *loader) validateDepartment(c *Config, d *Department, p string) {
	if d.Name == "" {
		d.Name = d.ID
	}
	d.Location = l.location(p+".timezone", d.TimeZone, c.Global.Location)
	if d.EscalationPolicy != "" && c.policiesByID[d.EscalationPolicy] == nil {
		l.unknownRef("escalation_policies", p+".escalation_policy", fmt.Sprintf("unknown escalation policy %q", d.EscalationPolicy))
	}
	if d.BusinessHours != "" {
		l.intervalRef(c, p+".business_hours", d.BusinessHours)
	}
	for j, r := range d.Rotations {
		l.validateRotation(c, r, fmt.Sprintf("%s.rotations[%d]", p, j))
	}
	for j, s := range d.Schedules {
		sp := fmt.Sprintf("%s.schedules[%d]", p, j)
		if s.Name == "" {
			s.Name = s.ID
		}
		if len(s.Layers) == 0 && !l.undecoded(sp+".layers") {
			l.errAt(sp, fmt.Sprintf("schedule %q has no layers", s.ID))
		}
		for k, id := range s.Layers {
			if c.rotationsByID[id] == nil {
				l.unknownRef("departments", fmt.Sprintf("%s.layers[%d]", sp, k), fmt.Sprintf("unknown rotation %q", id))
			}
		}
		l.validateOverrides(c, s.Overrides, sp+".overrides", c.Global.Location)
	}
	l.validateDrill(d, p)
	st := &d.Stakeholders
	for j, u := range st.Users {
		l.userRef(c, fmt.Sprintf("%s.stakeholders.users[%d]", p, j), u)
	}
	for j, ch := range st.ChatChannels {
		if c.channelsByID[ch] == nil {
			l.unknownRef("chat_channels", fmt.Sprintf("%s.stakeholders.chat_channels[%d]", p, j), fmt.Sprintf("unknown chat channel %q", ch))
		}
	}
	if st.UpdateEvery == 0 {
		st.UpdateEvery = Duration(DefaultUpdateEvery)
	} else if st.UpdateEvery.D() < time.Minute {
		l.errAt(p+".stakeholders.update_every", "update_every must be at least 1m: stakeholders are informed, not flooded")
	}
}

func (l *loader) validateRotation(c *Config, r *Rotation, p string) {
	if r.Name == "" {
		r.Name = r.ID
	}
	r.Location = l.location(p+".timezone", r.TimeZone, c.Global.Location)
	if r.TimeZone == "" {
		r.TimeZone = r.Location.String()
	}
	if r.Start == "" {
		if !l.undecoded(p + ".start") {
			l.errAt(p, fmt.Sprintf("rotation %q needs start: the first handoff, e.g. \"2026-01-05 09:00\"", r.ID))
		}
	} else if t, err := r.Start.In(r.Location); err != nil {
		l.errAt(p+".start", err.Error())
	} else {
		r.StartTime = t
	}
	switch {
	case r.Shift == 0 && l.undecoded(p+".shift"):
	case r.Shift == 0:
		l.errAt(p, fmt.Sprintf("rotation %q needs shift: how long each member is on call, e.g. 1w, 1d, 12h", r.ID))
	case r.Shift.D() < time.Minute:
		l.errAt(p+".shift", "shift must be at least 1m")
	case r.Shift.D()%time.Minute != 0:
		l.errAt(p+".shift", "shift must be a whole number of minutes")
	}
	if len(r.Members) == 0 && !l.undecoded(p+".members") {
		l.errAt(p, fmt.Sprintf("rotation %q has no members: it would page nobody", r.ID))
	}
	for k, m := range r.Members {
		l.userRef(c, fmt.Sprintf("%s.members[%d]", p, k), m)
	}
	prev := r.StartTime
	for k := range r.Changes {
		ch := &r.Changes[k]
		cp := fmt.Sprintf("%s.changes[%d]", p, k)
		if t, err := ch.At.In(r.Location); err != nil {
			l.errAt(cp+".at", err.Error())
		} else {
			ch.Time = t
			if !prev.IsZero() && !t.After(prev) {
				l.errAt(cp+".at", "roster changes must come after start and after each other")
			}
			prev = t
		}
		if len(ch.Members) == 0 && !l.undecoded(cp+".members") {
			l.errAt(cp, "a roster change needs members")
		}
		for m, id := range ch.Members {
			l.userRef(c, fmt.Sprintf("%s.members[%d]", cp, m), id)
		}
	}
	for k, name := range r.Active {
		l.intervalRef(c, fmt.Sprintf("%s.active[%d]", p, k), name)
	}
	l.validateOverrides(c, r.Overrides, p+".overrides", r.Location)
}

func (l *loader) validateOverrides(c *Config, os []Override, p string, loc *time.Location) {
	for k := range os {
		o := &os[k]
		op := fmt.Sprintf("%s[%d]", p, k)
		l.userRef(c, op+".user", o.User)
		var err error
		if o.StartTime, err = o.Start.In(loc); err != nil {
			l.errAt(op+".start", err.Error())
		}
		if o.EndTime, err = o.End.In(loc); err != nil {
			l.errAt(op+".end", err.Error())
		}
		if !o.StartTime.IsZero() && !o.EndTime.IsZero() && !o.EndTime.After(o.StartTime) {
			l.errAt(op+".end", "override ends before it starts")
		}
	}
}

func (l *loader) validatePolicy(c *Config, pol *Policy, p string) {
	if pol.Name == "" {
		pol.Name = pol.ID
	}
	if len(pol.Steps) == 0 && !l.undecoded(p+".steps") {
		l.errAt(p, fmt.Sprintf("escalation policy %q has no steps", pol.ID))
	}
	if pol.Repeat < 0 || pol.Repeat > 100 {
		l.errAt(p+".repeat", "repeat must be between 0 and 100")
	}
	if pol.AckTimeout < 0 {
		l.errAt(p+".ack_timeout", "ack_timeout cannot be negative")
	}
	l.validateIncidentCommander(c, pol.IncidentCommander, p+".incident_commander")
	for j := range pol.Steps {
		s := &pol.Steps[j]
		sp := fmt.Sprintf("%s.steps[%d]", p, j)
		t := s.Targets
		if len(t.Rotations)+len(t.Schedules)+len(t.Users)+len(t.Departments)+len(t.ChatChannels) == 0 && !l.undecoded(sp+".targets") {
			l.errAt(sp, "step has no targets: name rotations, schedules, users, departments or chat_channels")
		}
		for k, id := range t.Rotations {
			if c.rotationsByID[id] == nil {
				l.unknownRef("departments", fmt.Sprintf("%s.targets.rotations[%d]", sp, k), fmt.Sprintf("unknown rotation %q", id))
			}
		}
		for k, id := range t.Schedules {
			if c.schedulesByID[id] == nil {
				l.unknownRef("departments", fmt.Sprintf("%s.targets.schedules[%d]", sp, k), fmt.Sprintf("unknown schedule %q", id))
			}
		}
		for k, id := range t.Users {
			l.userRef(c, fmt.Sprintf("%s.targets.users[%d]", sp, k), id)
		}
		for k, id := range t.Departments {
			if d := c.departmentsByID[id]; d == nil {
				l.unknownRef("departments", fmt.Sprintf("%s.targets.departments[%d]", sp, k), fmt.Sprintf("unknown department %q", id))
			} else if len(d.Rotations)+len(d.Schedules) == 0 {
				l.errAt(fmt.Sprintf("%s.targets.departments[%d]", sp, k), fmt.Sprintf("department %q has no rotations or schedules to page", id))
			}
		}
		for k, id := range t.ChatChannels {
			if c.channelsByID[id] == nil {
				l.unknownRef("chat_channels", fmt.Sprintf("%s.targets.chat_channels[%d]", sp, k), fmt.Sprintf("unknown chat channel %q", id))
			}
		}
		if s.Fallback != "" {
			l.userRef(c, sp+".fallback", s.Fallback)
		}
		if s.EscalateAfter == 0 {
			s.EscalateAfter = Duration(DefaultEscalateAfter)
		} else if s.EscalateAfter < 0 {
			l.errAt(sp+".escalate_after", "escalate_after cannot be negative")
		}
	}
}

func (l *loader) validateRoute(c *Config, r *Route, p string, isDefault bool) {
	if isDefault && len(r.Matchers) > 0 {
		l.errAt(p+".matchers", "default_route matches every alert: it takes no matchers")
	}
	for k, s := range r.Matchers {
		m, err := labels.ParseMatcher(s)
		if err != nil {
			l.errAt(fmt.Sprintf("%s.matchers[%d]", p, k), fmt.Sprintf("invalid matcher %q: %v", s, err))
			continue
		}
		r.ParsedMatchers = append(r.ParsedMatchers, m)
	}
	if r.Drop {
		switch {
		case isDefault:
			l.errAt(p+".drop", "default_route cannot drop: every alert nothing else matched would vanish; add a drop route with matchers instead")
		case r.Department != "" || r.EscalationPolicy != "":
			l.errAt(p+".drop", "a drop route pages nobody: remove department and escalation_policy")
		case r.Continue:
			l.errAt(p+".continue", "a drop route ends matching: continue has no effect, remove it")
		case len(r.ActiveTimeIntervals) > 0 || r.Inactive != "":
			l.errAt(p+".drop", "a drop route always drops: active_time_intervals and inactive do not apply")
		}
		return
	}
	if isDefault && r.Inactive == "skip" {
		l.errAt(p+".inactive", "default_route has no route after it to skip to: use hold or stakeholders")
	}
	if r.SeverityLabel == "" {
		r.SeverityLabel = DefaultSeverityLabel
	}
	switch r.Inactive {
	case "":
		r.Inactive = "hold"
	case "hold", "stakeholders", "skip":
	default:
		l.errAt(p+".inactive", fmt.Sprintf("inactive %q: want hold, stakeholders or skip", r.Inactive))
	}
	for k, name := range r.ActiveTimeIntervals {
		l.intervalRef(c, fmt.Sprintf("%s.active_time_intervals[%d]", p, k), name)
	}
	if r.Department == "" {
		if !l.undecoded(p + ".department") {
			l.errAt(p, "route needs a department (or drop: true)")
		}
		return
	}
	d := c.departmentsByID[r.Department]
	if d == nil {
		l.unknownRef("departments", p+".department", fmt.Sprintf("unknown department %q", r.Department))
		return
	}
	switch {
	case r.EscalationPolicy != "":
		if c.policiesByID[r.EscalationPolicy] == nil {
			l.unknownRef("escalation_policies", p+".escalation_policy", fmt.Sprintf("unknown escalation policy %q", r.EscalationPolicy))
		}
	case d.EscalationPolicy == "":
		l.errAt(p, fmt.Sprintf("route names no escalation_policy and department %q has none", d.ID))
	}
}

func (l *loader) validateMaintenance(c *Config, m *Maintenance, p string) {
	if m.Name == "" && !l.undecoded(p+".name") {
		l.errAt(p, "maintenance window needs a name")
	}
	for k, id := range m.Departments {
		if c.departmentsByID[id] == nil {
			l.unknownRef("departments", fmt.Sprintf("%s.departments[%d]", p, k), fmt.Sprintf("unknown department %q", id))
		}
	}
	for k, name := range m.Routes {
		if c.routesByName[name] == nil && !(c.DefaultRoute != nil && c.DefaultRoute.Name == name) {
			l.unknownRef("routes", fmt.Sprintf("%s.routes[%d]", p, k), fmt.Sprintf("unknown route %q", name))
		}
	}
	oneOff := m.Start != "" || m.End != ""
	switch {
	case oneOff && len(m.TimeIntervals) > 0:
		l.errAt(p, "give start and end (one-off) or time_intervals (recurring), not both")
	case oneOff:
		var err error
		if m.StartTime, err = m.Start.In(c.Global.Location); err != nil {
			l.errAt(p+".start", err.Error())
		}
		if m.EndTime, err = m.End.In(c.Global.Location); err != nil {
			l.errAt(p+".end", err.Error())
		}
		if !m.StartTime.IsZero() && !m.EndTime.IsZero() && !m.EndTime.After(m.StartTime) {
			l.errAt(p+".end", "maintenance window ends before it starts")
		}
	case len(m.TimeIntervals) == 0 && !l.undecoded(p+".time_intervals"):
		l.errAt(p, "maintenance window needs start and end, or time_intervals")
	}
	for k, name := range m.TimeIntervals {
		l.intervalRef(c, fmt.Sprintf("%s.time_intervals[%d]", p, k), name)
	}
}
