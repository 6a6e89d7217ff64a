package email

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"

	"github.com/hikyaku/hikyaku/catalog"
	"github.com/hikyaku/hikyaku/channels"
	"github.com/hikyaku/hikyaku/config"
)

// eventReplyRefused is the timeline line of a reply whose sender could not
// be proven.
const eventReplyRefused = "reply_refused"

// maxRefusedEvents bounds the reply_refused lines one incident gets: anyone
// can name an incident in References, and must not be able to bury its
// timeline. Past the bound a refusal is logged and counted only.
const maxRefusedEvents = 10

// kindRefusalNotice marks the mail telling a person their reply was refused.
const kindRefusalNotice channels.Kind = "reply_refused"

// turnDown records a message that does not act. Ignored mail is logged at
// info; a refusal is logged at WARN, goes on the incident's timeline and,
// once per incident and person, is explained to the person the From header
// names — at their configured address, never at From, which may be forged.
// Its error (the store) makes the relay try again later.
func (in *inbox) turnDown(ctx context.Context, log *slog.Logger, v *verdict, r *mailReply) error {
	in.metrics.count(v.result, v.reason)
	if v.result != mailRefused {
		log.Info("email ignored", "reason", v.reason, "detail", v.detail)
		return nil
	}
	log = log.With("reason", v.reason, "detail", v.detail)
	if v.incident == 0 {
		log.Warn("email reply refused: nothing was changed")
		return nil
	}
	log = log.With("incident", v.incident)
	notes, err := in.r.Noted(ctx, v.incident, eventReplyRefused)
	switch {
	case errors.Is(err, channels.ErrNoIncident):
		log.Warn("email reply refused: nothing was changed (no such incident)")
		return nil
	case err != nil:
		return fmt.Errorf("refusals of incident %d: %w", v.incident, err)
	}
	told := false
	for _, n := range notes {
		told = told || (v.tell != nil && n.Detail["told"] == v.tell.ID)
	}
	if len(notes) >= maxRefusedEvents {
		log.Warn("email reply refused: nothing was changed (timeline already holds the most refusals it records)", "max", maxRefusedEvents)
		return nil
	}
	detail := map[string]string{"reason": v.reason, "from": r.From, "via": "email"}
	if r.MessageID != "" {
		detail["message_id"] = r.MessageID
	}
	tell := v.tell != nil && !told && v.tell.Contacts.Email != ""
	if tell {
		detail["told"] = v.tell.ID
	}
	if err := in.r.Note(ctx, v.incident, channels.Note{Type: eventReplyRefused, Detail: detail}); err != nil {
		if errors.Is(err, channels.ErrNoIncident) {
			return nil
		}
		return err
	}
	log.Warn("email reply refused: nothing was changed", "told", tell)
	if tell {
		in.tellRefused(ctx, v.tell, v)
	}
	return nil
}

// tellRefused mails the person why their reply did nothing and how to act
// instead. The mail's own Reply-To is their reply address for the incident,
// so answering it works. A failure is logged: the refusal is on the timeline.
func (in *inbox) tellRefused(ctx context.Context, u *config.User, v *verdict) {
	t := catalog.For(u.Language)
	m := &channels.Message{IdempotencyKey: "reply_refused/" + strconv.FormatInt(v.incident, 10) + "/" + u.ID,
		Channel: string(config.ChannelEmail), Kind: kindRefusalNotice, IncidentID: v.incident,
		To: u.Contacts.Email, UserID: u.ID, Name: u.Name, Language: u.Language,
		Subject: t.T("email.refused.subject", v.incident),
		Text:    t.T("email.refused.text", v.incident, refusalText(v.reason), v.reason)}
	sctx, cancel := context.WithTimeout(ctx, confirmTimeout)
	defer cancel()
	if _, err := in.r.Send(sctx, m); err != nil {
		in.log.Warn("email refusal notice not sent", "incident", v.incident, "user", u.ID, "err", err)
	}
}

// refusalText says in words what a refusal reason means.
func refusalText(reason string) string {
	switch reason {
	case reasonDKIMNone:
		return "it carries no DKIM signature of your mail domain"
	case reasonDKIMInvalid:
		return "its DKIM signature does not verify"
	case reasonDKIMMisaligned:
		return "its DKIM signature is not your mail domain's"
	case reasonDKIMThreadUnsigned:
		return "its DKIM signature does not cover the headers naming the incident"
	case reasonDuplicateHeader:
		return "it has more than one From, In-Reply-To or References header"
	case reasonSenderMismatch:
		return "its envelope sender is not its From address"
	case reasonTokenUser:
		return "it was sent to a reply address made for someone else"
	default:
		return strings.ReplaceAll(reason, "_", " ")
	}
}
