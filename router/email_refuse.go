package router

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"

	"github.com/hikyaku/hikyaku/channels"
	"github.com/hikyaku/hikyaku/config"
	"github.com/hikyaku/hikyaku/store"
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
func (e *Engine) turnDown(ctx context.Context, log *slog.Logger, v *verdict, r *mailReply) error {
	e.metrics.mail.replies.WithLabelValues(v.result, v.reason).Inc()
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
	evs, err := e.opts.Store.Timeline(ctx, v.incident)
	switch {
	case errors.Is(err, store.ErrNotFound):
		log.Warn("email reply refused: nothing was changed (no such incident)")
		return nil
	case err != nil:
		return fmt.Errorf("timeline of incident %d: %w", v.incident, err)
	}
	refused, told := 0, false
	for _, ev := range evs {
		if ev.Type == eventReplyRefused {
			refused++
			told = told || (v.tell != nil && ev.Detail["told"] == v.tell.ID)
		}
	}
	if refused >= maxRefusedEvents {
		log.Warn("email reply refused: nothing was changed (timeline already holds the most refusals it records)", "max", maxRefusedEvents)
		return nil
	}
	detail := map[string]string{"reason": v.reason, "from": r.From, "via": "email"}
	if r.MessageID != "" {
		detail["message_id"] = r.MessageID
	}
	tell := v.tell != nil && !told && v.tell.Contacts.Get(config.ChannelEmail) != ""
	if tell {
		detail["told"] = v.tell.ID
	}
	if err := e.record(ctx, v.incident, nil, store.Event{At: e.now(), Type: eventReplyRefused, Detail: detail}); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return nil
		}
		return err
	}
	log.Warn("email reply refused: nothing was changed", "told", tell)
	if tell {
		e.tellRefused(ctx, v.tell, v)
	}
	return nil
}

// tellRefused mails the person why their reply did nothing and how to act
// instead. The mail's own Reply-To is their reply address for the incident,
// so answering it works. A failure is logged: the refusal is on the timeline.
func (e *Engine) tellRefused(ctx context.Context, u *config.User, v *verdict) {
	sender := (*e.senders.Load())[string(config.ChannelEmail)]
	if sender == nil {
		e.log.Warn("email refusal notice not sent: no email provider", "incident", v.incident, "user", u.ID)
		return
	}
	ja := u.Language == "ja"
	subject := fmt.Sprintf("[hikyaku #%d] Your email reply could not be verified", v.incident)
	text := fmt.Sprintf("A reply from your address about incident #%d could not be verified (%s), so nothing was changed.\n\n"+
		"To act by email, reply to this message: its reply address proves it is you. "+
		"Or use the links in the page, Slack, SMS or the hikyaku CLI.\n", v.incident, refusalText(v.reason))
	if ja {
		subject = fmt.Sprintf("[hikyaku #%d] メールの返信を確認できませんでした", v.incident)
		text = fmt.Sprintf("インシデント #%d へのあなたのアドレスからの返信は送信者を確認できなかったため（%s）、何も変更していません。\n\n"+
			"メールで操作するには、このメールに返信してください（返信先アドレスがご本人であることを証明します）。"+
			"ページのリンク、Slack、SMS、hikyaku CLI でも操作できます。\n", v.incident, v.reason)
	}
	m := &channels.Message{IdempotencyKey: "reply_refused/" + strconv.FormatInt(v.incident, 10) + "/" + u.ID,
		Channel: string(config.ChannelEmail), Kind: kindRefusalNotice, IncidentID: v.incident,
		To: u.Contacts.Get(config.ChannelEmail), UserID: u.ID, Name: u.Name, Language: u.Language, Subject: subject, Text: text}
	sctx, cancel := context.WithTimeout(ctx, confirmTimeout)
	defer cancel()
	if _, err := sender.Send(sctx, m); err != nil {
		e.log.Warn("email refusal notice not sent", "incident", v.incident, "user", u.ID, "err", err)
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
