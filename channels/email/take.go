package email

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/emersion/go-message/mail"

	"github.com/hikyaku/hikyaku/catalog"
	"github.com/hikyaku/hikyaku/channels"
	"github.com/hikyaku/hikyaku/channels/reply"
	"github.com/hikyaku/hikyaku/config"
)

// replyKeep is how long a reply's replay record (its Message-ID) lasts. A
// relay retries a mail for days, and a captured one can be sent again
// whenever: the record outlives the incident's window of handled requests,
// bounded as the other inbound channels' are.
const replyKeep = 30 * 24 * time.Hour

// confirmTimeout bounds the confirmation mail sent while the replying
// server waits for our answer to DATA (RFC 5321 gives it ten minutes).
const confirmTimeout = 20 * time.Second

// kindConfirmation marks the answer to an emailed action; it is no page.
const kindConfirmation channels.Kind = "confirmation"

// inbox is what the listener's sessions share: the engine, the log, DNS
// and the metrics.
type inbox struct {
	r       channels.Receiver
	log     *slog.Logger
	lookup  LookupTXT
	metrics *Metrics
}

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
	// tell is the configured user the From header names, when they were
	// emailed about the incident: the one to tell why.
	tell *config.User
}

func (v *verdict) Error() string { return v.result + " (" + v.reason + "): " + v.detail }

func ignore(reason, detail string) *verdict {
	return &verdict{result: mailIgnored, reason: reason, detail: detail}
}

// take acts on one received message. Its error means "try again later"
// (the store or DNS could not answer): every other outcome is accepted,
// logged and counted, and only a paged person's proven answer changes
// anything. The configuration is read once, so a reload mid-way never
// mixes two.
func (in *inbox) take(ctx context.Context, env envelope, raw []byte) error {
	cfg := in.r.Config()
	log := in.log.With("mail_from", env.From, "rcpt", env.To, "remote", env.Remote)
	if _, ok := channels.SourceOf(ctx); !ok {
		ctx = channels.WithSource(ctx, channels.Source{Addr: env.Remote})
	}
	r, err := readReply(bytes.NewReader(raw))
	if err != nil {
		in.metrics.count(mailIgnored, reasonUnreadable)
		log.Info("email ignored: unreadable message", "err", err)
		return nil
	}
	log = log.With("message_id", r.MessageID, "from", r.From)
	a, u, err := in.replyAction(ctx, cfg, env, raw, r)
	var v *verdict
	switch {
	case errors.As(err, &v):
		return in.turnDown(ctx, log, v, r)
	case err != nil:
		return err
	}
	a.Dedup = "email:" + r.MessageID
	if r.MessageID == "" {
		sum := sha256.Sum256(raw)
		a.Dedup = "email:sha256:" + hex.EncodeToString(sum[:16])
	}
	res, err := channels.ActOnce(ctx, in.r, a, replyKeep)
	if err != nil {
		return fmt.Errorf("act on incident %d: %w", a.Incident, err)
	}
	switch res.Outcome {
	case channels.Replayed:
		in.metrics.count(mailUnchanged, "")
		log.Info("email reply seen before: nothing changed, no confirmation", "incident", a.Incident, "user", u.ID)
		return nil // the first delivery was answered
	case channels.AlreadyResolved, channels.NotFound:
		in.metrics.count(mailUnchanged, "")
		log.Info("email reply changed nothing", "incident", a.Incident, "user", u.ID, "outcome", res.Outcome)
	case channels.Forbidden:
		// The roles refuse it (or a reload took the person away): final,
		// so the relay is not made to retry; the person is told why.
		in.metrics.count(mailUnchanged, "")
		log.Warn("email reply refused by the roles: nothing changed", "incident", a.Incident, "user", u.ID, "reason", res.Reason)
	case channels.Done:
		if res.Retry {
			in.metrics.count(mailUnchanged, "")
			log.Info("email reply already handled (a retry)", "incident", a.Incident, "user", u.ID)
			return nil // its confirmation went out the first time
		}
		in.metrics.count(mailActed, "")
	default:
		in.metrics.count(mailUnchanged, "")
	}
	in.confirm(ctx, cfg, u, a, res, r.Subject)
	return nil
}

// replyAction decides whose answer a message is and what it asks. A reply
// address token proves the incident and the person; without one (or with
// one that binds no person), the message's thread names the incident, the
// sender must be someone emailed about it, and a DKIM signature aligned
// with the From domain must prove the From header. Either way the sender
// (envelope and From header alike) must be that person's configured address.
func (in *inbox) replyAction(ctx context.Context, cfg *config.Config, env envelope, raw []byte, r *mailReply) (channels.Action, *config.User, error) {
	switch {
	case r.Auto:
		return channels.Action{}, nil, ignore(reasonAutomatic, "automatic reply (Auto-Submitted, X-Autoreply or Precedence)")
	case env.From == "":
		return channels.Action{}, nil, ignore(reasonBounce, "bounce: empty return path")
	}
	// A first line that is a command acts; any other text the person wrote
	// is a note on the incident's decision log.
	var verb channels.Verb
	var note channels.NoteText
	cmd, ok := reply.Parse(r.Text)
	switch {
	case ok && (cmd.Action == reply.Ack || cmd.Action == reply.Resolve || cmd.Action == reply.Escalate):
		verb = channels.Verb(cmd.Action)
	case ok:
		return channels.Action{}, nil, ignore(reasonWrongCommand, "command "+string(cmd.Action)+" means nothing by email")
	default:
		n, ok := reply.ParseNote(ownText(r.Text))
		if !ok {
			return channels.Action{}, nil, ignore(reasonNoCommand, "no command in the first line and no text for a note")
		}
		verb, note = channels.AddNote, channels.NoteText{Text: n.Text, Decision: n.Decision, Fields: channels.NoteFields(n.Fields),
			Severity: n.Severity, SeverityReason: n.SeverityReason}
	}

	key, _ := cfg.Global.SigningKey.Reveal()
	id, userID, tokened, err := replyToken([]byte(key), replyDomains(cfg), append(slices.Clone(env.To), r.To...), usersAt(cfg, r.From))
	if err != nil {
		return channels.Action{}, nil, err
	}
	if !tokened {
		if id = threadIncident(r.Thread); id == 0 {
			return channels.Action{}, nil, ignore(reasonNotAReply, "not a reply to a hikyaku message")
		}
	}
	if cmd.IncidentID != 0 && cmd.IncidentID != id {
		return channels.Action{}, nil, ignore(reasonWrongID, fmt.Sprintf("the text names incident %d but answers incident %d", cmd.IncidentID, id))
	}
	refuse := func(reason, detail string) (channels.Action, *config.User, error) {
		tell, _, err := in.pagedByEmail(ctx, cfg, id, r.From)
		if err != nil {
			return channels.Action{}, nil, err
		}
		return channels.Action{}, nil, &verdict{result: mailRefused, reason: reason, detail: detail, incident: id, tell: tell}
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
		return channels.Action{Incident: id, Verb: verb, User: u.ID, Via: "email", Note: note}, u, nil
	}
	// Only the thread (or an old reply address that binds no person) names
	// the incident: message ids are guessable and From can be forged, so
	// the From domain must have signed the mail.
	u, why, err := in.pagedByEmail(ctx, cfg, id, env.From)
	switch {
	case err != nil:
		return channels.Action{}, nil, err
	case why != nil:
		return channels.Action{}, nil, why
	}
	reason, err := verifySender(ctx, in.lookup, raw, r, domainOf(r.From))
	switch {
	case err != nil:
		return channels.Action{}, nil, err
	case reason != "":
		return channels.Action{}, nil, &verdict{result: mailRefused, reason: reason, incident: id, tell: u,
			detail: "no DKIM signature aligned with the From domain proves the sender"}
	}
	return channels.Action{Incident: id, Verb: verb, User: u.ID, Via: "email", Note: note}, u, nil
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
		n, u, valid := VerifyReplyAddress(key, a, unnamed...)
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
		if n, ok := IncidentFromMessageID(id); ok {
			return n
		}
	}
	return 0
}

// pagedByEmail is the configured user with address from who was sent an
// email about the incident: message ids are guessable, so a thread alone
// must not let anyone configured act on any incident. why says what is
// missing when there is no such user.
func (in *inbox) pagedByEmail(ctx context.Context, cfg *config.Config, id int64, from string) (u *config.User, why *verdict, err error) {
	var candidates []*config.User
	for _, u := range cfg.Users {
		if sameAddress(u.Contacts.Get(config.ChannelEmail), from) {
			candidates = append(candidates, u)
		}
	}
	if len(candidates) == 0 {
		return nil, &verdict{result: mailRefused, reason: reasonUnknownSender, incident: id, detail: "sender is no configured user's email address"}, nil
	}
	ds, err := in.r.Deliveries(ctx, id)
	switch {
	case errors.Is(err, channels.ErrNoIncident):
		return nil, ignore(reasonNoIncident, fmt.Sprintf("no incident %d", id)), nil
	case err != nil:
		return nil, nil, fmt.Errorf("deliveries of incident %d: %w", id, err)
	}
	for _, d := range ds {
		if d.Channel != string(config.ChannelEmail) {
			continue
		}
		for _, u := range candidates {
			if d.User == u.ID {
				return u, nil, nil
			}
		}
	}
	return nil, &verdict{result: mailRefused, reason: reasonNotEmailed, incident: id, detail: fmt.Sprintf("sender was not emailed about incident %d", id)}, nil
}

// confirm tells the person what their reply did, at their configured
// address (never the From header, which anyone can write). A failure is
// logged only: the action is recorded either way.
func (in *inbox) confirm(ctx context.Context, cfg *config.Config, u *config.User, a channels.Action, res channels.Result, subject string) {
	if u.Contacts.Get(config.ChannelEmail) == "" {
		return
	}
	if !strings.HasPrefix(strings.ToLower(subject), "re:") {
		subject = strings.TrimSpace("Re: " + subject)
	}
	m := &channels.Message{IdempotencyKey: "confirm/" + a.Dedup, Channel: string(config.ChannelEmail), Kind: kindConfirmation,
		IncidentID: a.Incident, To: u.Contacts.Get(config.ChannelEmail), UserID: u.ID, Name: u.Name, Language: u.Language,
		Subject: subject, Text: confirmationText(cfg, u.Language, a, res), Incident: res.Incident}
	sctx, cancel := context.WithTimeout(ctx, confirmTimeout)
	defer cancel()
	if _, err := in.r.Send(sctx, m); err != nil {
		in.log.Warn("email confirmation not sent", "incident", a.Incident, "user", u.ID, "err", err)
	}
}

// fieldsSet is the lines that tell the person which report fields their
// note's field lines set, with the values read, so a line mistaken for
// one (or one not taken) shows; "" when it set none.
func fieldsSet(lang string, n channels.NoteText) string {
	lines := n.Labelled(lang)
	if len(lines) == 0 {
		return ""
	}
	return "\n" + catalog.For(lang).T("email.reply.fields_set") + "\n" + strings.Join(lines, "\n")
}

// confirmationText says what happened, in the person's language.
func confirmationText(cfg *config.Config, lang string, a channels.Action, res channels.Result) string {
	name := func(id string) string {
		if u := cfg.User(id); u != nil && u.Name != "" {
			return u.Name
		}
		return id
	}
	t := catalog.For(lang)
	switch {
	case res.Outcome == channels.Forbidden:
		return res.Reason
	case res.Outcome == channels.AlreadyResolved:
		return t.T("email.reply.already_resolved", a.Incident)
	case res.Outcome == channels.NotFound:
		return t.T("email.reply.no_incident", a.Incident)
	case res.Outcome == channels.Invalid:
		return t.T("email.reply.note_refused", a.Incident, res.Reason)
	case a.Verb == channels.AddNote && a.Note.Decision:
		return t.T("email.reply.noted_decision", a.Incident, name(a.User)) + fieldsSet(lang, a.Note)
	case a.Verb == channels.AddNote:
		return t.T("email.reply.noted", a.Incident, name(a.User)) + fieldsSet(lang, a.Note)
	case a.Verb == channels.Ack && res.Incident.AckedBy != a.User:
		return t.T("email.reply.already_acked", a.Incident, name(res.Incident.AckedBy))
	case a.Verb == channels.Ack:
		return t.T("email.reply.acked", a.Incident, name(a.User))
	case a.Verb == channels.Resolve:
		return t.T("email.reply.resolved", a.Incident, name(a.User))
	default:
		return t.T("email.reply.escalated", a.Incident, name(a.User))
	}
}
