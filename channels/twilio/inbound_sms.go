package twilio

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/hikyaku/hikyaku/catalog"
	"github.com/hikyaku/hikyaku/channels"
	"github.com/hikyaku/hikyaku/channels/reply"
	"github.com/hikyaku/hikyaku/config"
)

// sms takes an inbound SMS: a reply to a page ("ack 12", "12a", "了解",
// "help", STOP, START). Only configured people's numbers act; the answer is
// TwiML whose message Twilio sends back as the reply SMS, and an unknown
// number gets TwiML without a message: no reply at all.
func (in *inbound) sms(w http.ResponseWriter, r *http.Request) {
	cfg := in.r.Config()
	r.Body = http.MaxBytesReader(w, r.Body, maxForm)
	form, err := Verify(r, authToken(cfg), cfg.Global.ExternalURL)
	switch {
	case errors.Is(err, ErrSignature):
		in.log.Warn("inbound SMS refused: not signed by Twilio (is global.external_url the URL Twilio calls?)", "err", err)
		http.Error(w, "forbidden", http.StatusForbidden)
		return
	case err != nil:
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	doc, err := SMSReply(in.smsAnswer(r.Context(), cfg, form.Get("From"), form.Get("Body"), messageSID(form.Get)))
	writeTwiML(w, doc, err)
}

// messageSID is the inbound message's id; SmsSid is its older name.
func messageSID(get func(string) string) string {
	if sid := get("MessageSid"); sid != "" {
		return sid
	}
	return get("SmsSid")
}

// smsAnswer carries out what an SMS from number says and returns the reply
// text, in the sender's language.
func (in *inbound) smsAnswer(ctx context.Context, cfg *config.Config, from, body, sid string) string {
	u := phoneOwner(in.r, from)
	if u == nil {
		// No reply: each one costs money, tells a stranger the number is a
		// pager, and two bots answering each other would loop.
		in.r.Unknown(ctx, string(config.ChannelSMS), from)
		return ""
	}
	t := catalog.For(u.Language)
	cmd, ok := reply.Parse(body)
	if !ok {
		return t.T("sms.not_understood") + " " + t.T("sms.help")
	}
	if cmd.Action == reply.Help {
		return t.T("sms.help")
	}
	// Twilio signs no timestamp: the replay record is what stops a
	// captured SMS sent again from acting (or texting its sender) again.
	replayed := false
	if sid != "" {
		var err error
		if replayed, err = in.r.Seen(ctx, "sms", sid, ReplayKeep); err != nil {
			in.log.Error("an SMS reply's replay record could not be written: nothing done", "user", u.ID, "err", err)
			return t.T("sms.failed")
		}
	}
	failed := func() string {
		if sid != "" && !replayed {
			in.r.Unsee(ctx, "sms", sid)
		}
		return t.T("sms.failed")
	}
	switch cmd.Action {
	case reply.Stop, reply.Start:
		out := cmd.Action == reply.Stop
		if replayed {
			return "" // STOP and START are idempotent: a retry changes nothing, and a replay must not undo a later START
		}
		if err := in.r.SetOptOut(ctx, from, out); err != nil {
			in.log.Error("recording SMS opt-out failed", "user", u.ID, "stop", out, "err", err)
			return failed()
		}
		in.log.Info("SMS opt-out changed", "user", u.ID, "number", from, "opted_out", out)
		if out {
			return t.T("sms.stop")
		}
		return t.T("sms.start")
	}
	verb := channels.Verb(cmd.Action)
	id := cmd.IncidentID
	if id == 0 {
		ids, err := pagedIncidents(ctx, in.r, u.ID, verb, sid)
		if err != nil {
			in.log.Error("finding the pages of an SMS reply failed", "user", u.ID, "err", err)
			return failed()
		}
		if replayed && len(ids) != 1 {
			return "" // not a retry of one that acted (that finds its incident): say nothing
		}
		switch len(ids) {
		case 0:
			return t.T("sms.none_open")
		case 1:
			id = ids[0]
		default:
			return severalReply(t, ids, verb)
		}
	}
	res, err := in.r.Act(ctx, channels.Action{Incident: id, Verb: verb, User: u.ID, Via: "sms", Dedup: sid, Replayed: replayed})
	if err == nil {
		switch res.Outcome {
		case channels.Replayed:
			return ""
		case channels.Done:
			return t.T(catalog.Key("sms.done."+string(verb)), id)
		case channels.AlreadyAcked:
			return t.T("sms.already_acked", id, userName(cfg, res.Incident.AckedBy))
		case channels.AlreadyResolved:
			return t.T("sms.resolved", id)
		case channels.NotFound:
			return t.T("sms.not_found", id)
		case channels.Forbidden:
			return catalog.Text(cfg.Global.Language, "sms.unknown")
		}
		err = fmt.Errorf("twilio: unexpected outcome %q", res.Outcome)
	}
	in.log.Error("acting on an SMS reply failed", "incident", id, "user", u.ID, "verb", verb, "err", err)
	return failed()
}

// pagedIncidents are the incidents user was paged for that verb can still
// act on, oldest first: open ones for ack, acked ones too for resolve and
// escalate. A provider's retry of a reply that already acted (sid handled)
// finds the incident it acted on, whatever its status now.
func pagedIncidents(ctx context.Context, r channels.Receiver, user string, verb channels.Verb, sid string) ([]int64, error) {
	acted, err := r.ActedOn(ctx, sid)
	if err != nil {
		return nil, err
	}
	if acted != 0 {
		return []int64{acted}, nil
	}
	pages, err := r.Paged(ctx, user, "")
	if err != nil {
		return nil, err
	}
	var ids []int64
	for _, d := range pages {
		if d.Status == "acked" && verb == channels.Ack {
			continue
		}
		if !slices.Contains(ids, d.Incident) {
			ids = append(ids, d.Incident)
		}
	}
	slices.Sort(ids)
	return ids, nil
}

// severalReply lists the ids a bare verb could mean, as many as fit in one
// SMS segment with how many were left out: a reply of ten segments to a
// person paged for forty incidents costs ten messages and reads worse.
func severalReply(t catalog.For, ids []int64, verb channels.Verb) string {
	for k := len(ids); ; k-- {
		list := make([]string, k)
		for i, id := range ids[:k] {
			list[i] = strconv.FormatInt(id, 10)
		}
		ls := strings.Join(list, ", ")
		if k < len(ids) {
			ls += t.T("sms.more", len(ids)-k)
		}
		text := t.T("sms.several", ls, ids[0], t.T(catalog.Key("sms.verb."+string(verb))))
		if k == 1 || Segments(text) <= 1 {
			return text
		}
	}
}
