package router

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/emersion/go-message/mail"
	"github.com/emersion/go-smtp"

	"github.com/hikyaku/hikyaku/channels"
	"github.com/hikyaku/hikyaku/channels/email"
	"github.com/hikyaku/hikyaku/channels/reply"
	"github.com/hikyaku/hikyaku/config"
	"github.com/hikyaku/hikyaku/store"
)

// Defaults of the reply listener's limits (serve's --smtp-max-message-bytes
// and --smtp-max-sessions). Replies are short: a quoted page and a phone's
// signature fit in 256 KiB; a photo does not need to.
const (
	DefaultMaxReplyBytes   = 256 << 10
	DefaultMaxMailSessions = 20
)

// confirmTimeout bounds the confirmation mail sent while the replying
// server waits for our answer to DATA (RFC 5321 gives it ten minutes).
const confirmTimeout = 20 * time.Second

// kindConfirmation marks the answer to an emailed action; it is no page.
const kindConfirmation channels.Kind = "confirmation"

// MailOptions are the reply listener's limits and its DNS. The zero value
// is the defaults with the host's resolver.
type MailOptions struct {
	MaxMessageBytes int64 // larger mail is refused with 552 (0: DefaultMaxReplyBytes)
	MaxSessions     int   // connections beyond it are refused with 421 (0: DefaultMaxMailSessions)
	// LookupTXT finds DKIM keys (nil: net.DefaultResolver, so the listener
	// needs DNS); tests give a table of their own keys.
	LookupTXT LookupTXT
}

// MailServer is the SMTP listener for replies to hikyaku's emails (see
// docs/acknowledge.md): it takes mail for the reply domain only, so it is
// no open relay, and acts on the answers of the people who were paged,
// when the mail proves who sent it. What a flood can hold is bounded:
// MaxSessions connections, each with at most MaxMessageBytes read.
type MailServer struct {
	srv         *smtp.Server
	maxSessions int
	metrics     *mailMetrics
	log         *slog.Logger
}

// NewMailServer makes the listener; the caller runs Serve and Close.
func NewMailServer(e *Engine, opts MailOptions) *MailServer {
	if opts.MaxMessageBytes <= 0 {
		opts.MaxMessageBytes = DefaultMaxReplyBytes
	}
	if opts.MaxSessions <= 0 {
		opts.MaxSessions = DefaultMaxMailSessions
	}
	if opts.LookupTXT == nil {
		opts.LookupTXT = systemLookupTXT
	}
	srv := smtp.NewServer(recoverSMTP{&mailBackend{e: e, lookup: opts.LookupTXT}, e})
	srv.Domain, _ = os.Hostname()
	if srv.Domain == "" {
		srv.Domain = "hikyaku"
	}
	srv.MaxMessageBytes = opts.MaxMessageBytes
	srv.MaxRecipients = 10
	srv.ReadTimeout = time.Minute
	srv.WriteTimeout = time.Minute
	srv.ErrorLog = slog.NewLogLogger(e.log.Handler(), slog.LevelWarn)
	return &MailServer{srv: srv, maxSessions: opts.MaxSessions, metrics: e.metrics.mail, log: e.log}
}

// Serve takes connections from l until Close, at most MaxSessions at once.
func (m *MailServer) Serve(l net.Listener) error {
	return m.srv.Serve(newSessionLimit(l, m.maxSessions, m.srv.Domain, m.metrics, m.log))
}

// Close closes the listeners and every open connection.
func (m *MailServer) Close() error { return m.srv.Close() }

// MaxMessageBytes is the size limit in force.
func (m *MailServer) MaxMessageBytes() int64 { return m.srv.MaxMessageBytes }

type mailBackend struct {
	e      *Engine
	lookup LookupTXT
}

func (b *mailBackend) NewSession(c *smtp.Conn) (smtp.Session, error) {
	remote := ""
	if a := c.Conn().RemoteAddr(); a != nil {
		remote = a.String()
	}
	return &mailSession{e: b.e, lookup: b.lookup, remote: remote}, nil
}

// mailSession is one SMTP connection; go-smtp calls it from one goroutine.
type mailSession struct {
	e      *Engine
	lookup LookupTXT
	remote string
	env    envelope
}

// envelope is what the sending server said in MAIL FROM and RCPT TO.
type envelope struct {
	From   string // "" for a bounce
	To     []string
	Remote string
}

var (
	errRelayDenied = &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 7, 1}, Message: "Relaying denied: this server only takes replies to its own mail"}
	errTryLater    = &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "Temporary failure, try again later"}
)

func (s *mailSession) Mail(from string, _ *smtp.MailOptions) error {
	s.env = envelope{From: from, Remote: s.remote}
	return nil
}

// Rcpt takes only the reply domain: everything else is someone trying to
// relay through us.
func (s *mailSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	if !slices.Contains(replyDomains(s.e.Policies().Config()), domainOf(to)) {
		s.e.log.Info("email refused: recipient outside the reply domain", "rcpt", to, "remote", s.remote)
		return errRelayDenied
	}
	s.env.To = append(s.env.To, to)
	return nil
}

// Data reads at most MaxMessageBytes: go-smtp's reader fails past it, the
// rest of the message is discarded as it streams in, and the relay gets 552.
func (s *mailSession) Data(r io.Reader) error {
	raw, err := io.ReadAll(r)
	if errors.Is(err, smtp.ErrDataTooLarge) {
		s.e.metrics.mail.replies.WithLabelValues(mailRefused, reasonTooLarge).Inc()
		s.e.log.Warn("email refused: message over the size limit", "mail_from", s.env.From, "rcpt", s.env.To,
			"remote", s.remote, "read_bytes", len(raw))
		return err
	}
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), dkimTimeout+confirmTimeout+10*time.Second)
	defer cancel()
	if err := s.e.takeReply(ctx, s.lookup, s.env, raw); err != nil {
		reason := reasonStore
		if errors.Is(err, errDKIMTemporary) {
			reason = reasonDNS
		}
		s.e.metrics.mail.replies.WithLabelValues(mailDeferred, reason).Inc()
		s.e.log.Warn("email reply could not be decided; the sending server will retry", "mail_from", s.env.From, "err", err)
		return errTryLater
	}
	return nil
}

func (s *mailSession) Reset() { s.env = envelope{Remote: s.remote} }

func (s *mailSession) Logout() error { return nil }

// replyDomains are the domains replies arrive at: providers.smtp.reply_domain
// and the domain of providers.smtp.from, which the email channel uses when no
// reply domain is set.
func replyDomains(cfg *config.Config) []string {
	sm := cfg.Providers.SMTP
	if sm == nil {
		return nil
	}
	var out []string
	if sm.ReplyDomain != "" {
		out = append(out, strings.ToLower(sm.ReplyDomain))
	}
	if a, err := mail.ParseAddress(sm.From); err == nil {
		out = append(out, domainOf(a.Address))
	}
	return out
}

func domainOf(addr string) string {
	at := strings.LastIndexByte(addr, '@')
	if at < 0 {
		return ""
	}
	return strings.ToLower(strings.TrimSuffix(addr[at+1:], "."))
}

// sameAddress compares addresses as mail systems do in practice: the
// domain never cares about case, and no provider hands out local parts that
// differ only in case.
func sameAddress(a, b string) bool {
	return a != "" && strings.EqualFold(strings.TrimSpace(a), strings.TrimSpace(b))
}

// verdict is why a message does not act: it is ignored (there is no
// answer in it to act on) or refused (an answer whose sender is not
// proven). The SMTP answer is 250 all the same: a stranger learns nothing
// from it; the log, the metric and, for a refusal, the timeline say why.
type verdict struct {
	result   string // mailIgnored or mailRefused
	reason   string // one of the reason constants
	detail   string // for the log
	incident int64  // the incident it answers, 0 when unknown
	// tell is the configured user the From header names, when the timeline
	// shows they were emailed about the incident: the one to tell why.
	tell *config.User
}

func (v *verdict) Error() string { return v.result + " (" + v.reason + "): " + v.detail }

func ignore(reason, detail string) *verdict {
	return &verdict{result: mailIgnored, reason: reason, detail: detail}
}

// takeReply acts on one received message. Its error means "try again later"
// (the store or DNS could not answer): every other outcome is accepted,
// logged and counted, and only a paged person's proven answer changes
// anything.
func (e *Engine) takeReply(ctx context.Context, lookup LookupTXT, env envelope, raw []byte) error {
	log := e.log.With("mail_from", env.From, "rcpt", env.To, "remote", env.Remote)
	if _, ok := auditSourceOf(ctx); !ok {
		ctx = WithAuditSource(ctx, AuditSource{Addr: env.Remote})
	}
	r, err := readReply(bytes.NewReader(raw))
	if err != nil {
		e.metrics.mail.replies.WithLabelValues(mailIgnored, reasonUnreadable).Inc()
		log.Info("email ignored: unreadable message", "err", err)
		return nil
	}
	log = log.With("message_id", r.MessageID, "from", r.From)
	a, u, err := e.replyAction(ctx, lookup, env, raw, r)
	var v *verdict
	switch {
	case errors.As(err, &v):
		return e.turnDown(ctx, log, v, r)
	case err != nil:
		return err
	}
	a.Dedup = "email:" + r.MessageID
	if r.MessageID == "" {
		sum := sha256.Sum256(raw)
		a.Dedup = "email:sha256:" + hex.EncodeToString(sum[:16])
	}
	// A relay retries a mail for days, and a captured one can be sent again
	// whenever: the replay record outlives the incident's Handled window.
	inc, done, err := e.actOnce(ctx, a, inboundKeep)
	switch {
	case errors.Is(err, ErrReplayed):
		e.metrics.mail.replies.WithLabelValues(mailUnchanged, "").Inc()
		log.Info("email reply seen before: nothing changed, no confirmation", "incident", a.Incident, "user", u.ID)
		return nil // the first delivery was answered
	case errors.Is(err, ErrResolved), errors.Is(err, ErrNotFound):
		e.metrics.mail.replies.WithLabelValues(mailUnchanged, "").Inc()
		log.Info("email reply changed nothing", "incident", a.Incident, "user", u.ID, "err", err)
	case err != nil:
		return fmt.Errorf("act on incident %d: %w", a.Incident, err)
	case !done && slices.Contains(inc.Handled, a.Dedup):
		e.metrics.mail.replies.WithLabelValues(mailUnchanged, "").Inc()
		log.Info("email reply already handled (a retry)", "incident", a.Incident, "user", u.ID)
		return nil // its confirmation went out the first time
	case !done:
		e.metrics.mail.replies.WithLabelValues(mailUnchanged, "").Inc()
	default:
		e.metrics.mail.replies.WithLabelValues(mailActed, "").Inc()
	}
	e.confirmByEmail(ctx, u, a, inc, err, r.Subject)
	return nil
}

// replyAction decides whose answer a message is and what it asks. A reply
// address token proves the incident and the person; without one (or with
// one that binds no person), the message's thread names the incident, the
// sender must be someone emailed about it, and a DKIM signature aligned
// with the From domain must prove the From header. Either way the sender
// (envelope and From header alike) must be that person's configured address.
func (e *Engine) replyAction(ctx context.Context, lookup LookupTXT, env envelope, raw []byte, r *mailReply) (Action, *config.User, error) {
	cfg := e.Policies().Config()
	switch {
	case r.Auto:
		return Action{}, nil, ignore(reasonAutomatic, "automatic reply (Auto-Submitted, X-Autoreply or Precedence)")
	case env.From == "":
		return Action{}, nil, ignore(reasonBounce, "bounce: empty return path")
	}
	cmd, ok := reply.Parse(r.Text)
	if !ok {
		return Action{}, nil, ignore(reasonNoCommand, "no command in the first line")
	}
	verb := ""
	switch cmd.Action {
	case reply.Ack, reply.Resolve, reply.Escalate:
		verb = string(cmd.Action)
	default:
		return Action{}, nil, ignore(reasonWrongCommand, "command "+string(cmd.Action)+" means nothing by email")
	}

	key, _ := cfg.Global.SigningKey.Reveal()
	id, userID, tokened, err := replyToken([]byte(key), replyDomains(cfg), append(slices.Clone(env.To), r.To...), usersAt(cfg, r.From))
	if err != nil {
		return Action{}, nil, err
	}
	if !tokened {
		if id = threadIncident(r.Thread); id == 0 {
			return Action{}, nil, ignore(reasonNotAReply, "not a reply to a hikyaku message")
		}
	}
	if cmd.IncidentID != 0 && cmd.IncidentID != id {
		return Action{}, nil, ignore(reasonWrongID, fmt.Sprintf("the text names incident %d but answers incident %d", cmd.IncidentID, id))
	}
	refuse := func(reason, detail string) (Action, *config.User, error) {
		tell, _, err := e.pagedByEmail(ctx, id, r.From)
		if err != nil {
			return Action{}, nil, err
		}
		return Action{}, nil, &verdict{result: mailRefused, reason: reason, detail: detail, incident: id, tell: tell}
	}
	if !sameAddress(env.From, r.From) {
		return refuse(reasonSenderMismatch, "envelope sender and From header disagree")
	}

	var u *config.User
	if tokened && userID != "" {
		if u = cfg.User(userID); u == nil {
			return refuse(reasonUnknownUser, "the reply address names a user no longer configured")
		}
		if !sameAddress(u.Contacts.Get(config.ChannelEmail), env.From) {
			return refuse(reasonTokenUser, "sender is not the person the reply address was made for")
		}
		return Action{Incident: id, Verb: verb, User: u.ID, Via: "email"}, u, nil
	}
	// Only the thread (or an old reply address that binds no person) names
	// the incident: message ids are guessable and From can be forged, so
	// the From domain must have signed the mail.
	u, why, err := e.pagedByEmail(ctx, id, env.From)
	switch {
	case err != nil:
		return Action{}, nil, err
	case why != nil:
		return Action{}, nil, why
	}
	reason, err := verifySender(ctx, lookup, raw, r, domainOf(r.From))
	switch {
	case err != nil:
		return Action{}, nil, err
	case reason != "":
		return Action{}, nil, &verdict{result: mailRefused, reason: reason, incident: id, tell: u,
			detail: "no DKIM signature aligned with the From domain proves the sender"}
	}
	return Action{Incident: id, Verb: verb, User: u.ID, Via: "email"}, u, nil
}

// usersAt are the ids of the configured users with address addr: the people
// a reply address that names nobody may have been made for.
func usersAt(cfg *config.Config, addr string) []string {
	var ids []string
	for _, u := range cfg.Users {
		if sameAddress(u.Contacts.Get(config.ChannelEmail), addr) {
			ids = append(ids, u.ID)
		}
	}
	return ids
}

// replyToken finds a verified reply address among the recipients. A
// recipient at the reply domain that looks like a token and does not verify
// is forged (or from another key): the message is ignored whole.
func replyToken(key []byte, domains, addrs, unnamed []string) (id int64, user string, ok bool, err error) {
	if len(key) == 0 {
		return 0, "", false, nil // no tokens are handed out without a key
	}
	for _, a := range addrs {
		if !slices.Contains(domains, domainOf(a)) || !looksTokened(a) {
			continue
		}
		n, u, valid := email.VerifyReplyAddress(key, a, unnamed...)
		if !valid {
			return 0, "", false, &verdict{result: mailRefused, reason: reasonBadToken, detail: "forged or stale reply address " + a}
		}
		if !ok {
			id, user, ok = n, u, true
		}
	}
	return id, user, ok, nil
}

// looksTokened: the local part's tag after the last + is "{digits}.…".
func looksTokened(addr string) bool {
	local := addr[:max(strings.LastIndexByte(addr, '@'), 0)]
	plus := strings.LastIndexByte(local, '+')
	if plus < 0 {
		return false
	}
	tag := local[plus+1:]
	return tag != "" && tag[0] >= '0' && tag[0] <= '9' && strings.Contains(tag, ".")
}

// threadIncident is the incident of the first hikyaku message id the reply names.
func threadIncident(ids []string) int64 {
	for _, id := range ids {
		if n, ok := email.IncidentFromMessageID(id); ok {
			return n
		}
	}
	return 0
}

// pagedByEmail is the configured user with address from whom the incident's
// timeline shows was sent an email: message ids are guessable, so a thread
// alone must not let anyone configured act on any incident. why says what
// is missing when there is no such user.
func (e *Engine) pagedByEmail(ctx context.Context, id int64, from string) (u *config.User, why *verdict, err error) {
	cfg := e.Policies().Config()
	var candidates []*config.User
	for _, u := range cfg.Users {
		if sameAddress(u.Contacts.Get(config.ChannelEmail), from) {
			candidates = append(candidates, u)
		}
	}
	if len(candidates) == 0 {
		return nil, &verdict{result: mailRefused, reason: reasonUnknownSender, incident: id, detail: "sender is no configured user's email address"}, nil
	}
	evs, err := e.opts.Store.Timeline(ctx, id)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return nil, ignore(reasonNoIncident, fmt.Sprintf("no incident %d", id)), nil
	case err != nil:
		return nil, nil, fmt.Errorf("timeline of incident %d: %w", id, err)
	}
	for _, ev := range evs {
		if ev.Type != "notified" || ev.Detail["channel"] != string(config.ChannelEmail) {
			continue
		}
		for _, u := range candidates {
			if ev.Detail["to"] == u.ID {
				return u, nil, nil
			}
		}
	}
	return nil, &verdict{result: mailRefused, reason: reasonNotEmailed, incident: id, detail: fmt.Sprintf("sender was not emailed about incident %d", id)}, nil
}

// confirmByEmail tells the person what their reply did, at their configured
// address (never the From header, which anyone can write). A failure is
// logged only: the action is recorded either way.
func (e *Engine) confirmByEmail(ctx context.Context, u *config.User, a Action, inc *store.Incident, actErr error, subject string) {
	sender := (*e.senders.Load())[string(config.ChannelEmail)]
	if sender == nil || u.Contacts.Get(config.ChannelEmail) == "" {
		return
	}
	text := confirmationText(e.Policies().Config(), u.Language, a, inc, actErr)
	if !strings.HasPrefix(strings.ToLower(subject), "re:") {
		subject = strings.TrimSpace("Re: " + subject)
	}
	m := &channels.Message{IdempotencyKey: "confirm/" + a.Dedup, Channel: string(config.ChannelEmail), Kind: kindConfirmation,
		IncidentID: a.Incident, To: u.Contacts.Get(config.ChannelEmail), UserID: u.ID, Name: u.Name, Language: u.Language,
		Subject: subject, Text: text}
	if inc != nil {
		m.Incident = e.incidentInfo(inc, &notifyPayload{Kind: string(kindConfirmation)})
	}
	sctx, cancel := context.WithTimeout(ctx, confirmTimeout)
	defer cancel()
	if _, err := sender.Send(sctx, m); err != nil {
		e.log.Warn("email confirmation not sent", "incident", a.Incident, "user", u.ID, "err", err)
	}
}

// confirmationText says what happened, in the person's language.
func confirmationText(cfg *config.Config, lang string, a Action, inc *store.Incident, actErr error) string {
	ja := lang == "ja"
	name := func(id string) string {
		if u := cfg.User(id); u != nil && u.Name != "" {
			return u.Name
		}
		return id
	}
	switch {
	case errors.Is(actErr, ErrResolved):
		if ja {
			return fmt.Sprintf("インシデント #%d は既に解決済みです。変更はありません。", a.Incident)
		}
		return fmt.Sprintf("Incident #%d is already resolved: nothing was changed.", a.Incident)
	case errors.Is(actErr, ErrNotFound) || inc == nil:
		if ja {
			return fmt.Sprintf("インシデント #%d はありません。変更はありません。", a.Incident)
		}
		return fmt.Sprintf("There is no incident #%d: nothing was changed.", a.Incident)
	case a.Verb == "ack" && inc.AckedBy != a.User:
		if ja {
			return fmt.Sprintf("インシデント #%d は既に %s さんが了解済みです。", a.Incident, name(inc.AckedBy))
		}
		return fmt.Sprintf("Incident #%d was already acknowledged by %s.", a.Incident, name(inc.AckedBy))
	case a.Verb == "ack":
		if ja {
			return fmt.Sprintf("インシデント #%d を %s さんが了解しました（メール）。エスカレーションを停止しました。", a.Incident, name(a.User))
		}
		return fmt.Sprintf("Incident #%d acknowledged by %s (email): escalation stopped.", a.Incident, name(a.User))
	case a.Verb == "resolve":
		if ja {
			return fmt.Sprintf("インシデント #%d を %s さんが解決済みにしました（メール）。", a.Incident, name(a.User))
		}
		return fmt.Sprintf("Incident #%d resolved by %s (email).", a.Incident, name(a.User))
	default:
		if ja {
			return fmt.Sprintf("インシデント #%d を %s さんがエスカレーションしました（メール）。次の段階を呼び出します。", a.Incident, name(a.User))
		}
		return fmt.Sprintf("Incident #%d escalated by %s (email): the next step is being paged.", a.Incident, name(a.User))
	}
}
