package router

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/hikyaku/hikyaku/channels"
	"github.com/hikyaku/hikyaku/channels/reply"
	"github.com/hikyaku/hikyaku/channels/twilio"
	"github.com/hikyaku/hikyaku/config"
	"github.com/hikyaku/hikyaku/store"
)

// maxTwilioForm bounds an inbound webhook's body: an SMS is at most 1600
// characters, and Twilio's other parameters are a few hundred bytes.
const maxTwilioForm = 64 << 10

// retryScan is how many resolved incidents a reply without an id looks
// through to recognise a provider's retry of a reply that already resolved one.
const retryScan = 50

// twilioSMS takes an inbound SMS: a reply to a page ("ack 12", "12a", "了解",
// "help", STOP, START). Only configured people's numbers act; the answer is
// TwiML whose message Twilio sends back as the reply SMS, and an unknown
// number gets TwiML without a message: no reply at all.
func (s *Server) twilioSMS(w http.ResponseWriter, r *http.Request) {
	cfg := s.Engine.Policies().Config()
	r.Body = http.MaxBytesReader(w, r.Body, maxTwilioForm)
	form, err := twilio.Verify(r, twilioAuthToken(cfg), cfg.Global.ExternalURL)
	switch {
	case errors.Is(err, twilio.ErrSignature):
		s.Engine.log.Warn("inbound SMS refused: not signed by Twilio (is global.external_url the URL Twilio calls?)", "err", err)
		http.Error(w, "forbidden", http.StatusForbidden)
		return
	case err != nil:
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	doc, err := twilio.SMSReply(s.Engine.smsAnswer(r.Context(), cfg, form.Get("From"), form.Get("Body"), messageSID(form.Get)))
	writeTwiML(w, doc, err)
}

// messageSID is the inbound message's id; SmsSid is its older name.
func messageSID(get func(string) string) string {
	if sid := get("MessageSid"); sid != "" {
		return sid
	}
	return get("SmsSid")
}

func twilioAuthToken(cfg *config.Config) string {
	if tw := cfg.Providers.Twilio; tw != nil {
		tok, _ := tw.AuthToken.Reveal()
		return tok
	}
	return ""
}

func writeTwiML(w http.ResponseWriter, doc string, err error) {
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", twilio.ContentType)
	fmt.Fprint(w, doc)
}

// smsAnswer carries out what an SMS from number says and returns the reply
// text, in the sender's language.
func (e *Engine) smsAnswer(ctx context.Context, cfg *config.Config, from, body, sid string) string {
	u := userByPhone(cfg, from)
	if u == nil {
		// No reply: each one costs money, tells a stranger the number is a
		// pager, and two bots answering each other would loop.
		e.log.Warn("SMS from a number no user has: not answered, nothing changed", "from", from)
		e.metrics.unknownSenders.WithLabelValues("sms").Inc()
		return ""
	}
	wd := wordsFor(smsTexts, u.Language)
	cmd, ok := reply.Parse(body)
	if !ok {
		return wd.notUnderstood + " " + wd.help
	}
	if cmd.Action == reply.Help {
		return wd.help
	}
	// Twilio signs no timestamp: the replay record is what stops a
	// captured SMS sent again from acting (or texting its sender) again.
	replayed := false
	if sid != "" {
		var err error
		if replayed, err = e.seen(ctx, "sms", sid, inboundKeep); err != nil {
			e.log.Error("an SMS reply's replay record could not be written: nothing done", "user", u.ID, "err", err)
			return wd.failed
		}
	}
	failed := func() string {
		if sid != "" && !replayed {
			e.unsee(ctx, "sms", sid)
		}
		return wd.failed
	}
	switch cmd.Action {
	case reply.Stop, reply.Start:
		out := cmd.Action == reply.Stop
		if replayed {
			return "" // STOP and START are idempotent: a retry changes nothing, and a replay must not undo a later START
		}
		if err := e.opts.Store.SetOptOut(ctx, from, out); err != nil {
			e.log.Error("recording SMS opt-out failed", "user", u.ID, "stop", out, "err", err)
			return failed()
		}
		e.log.Info("SMS opt-out changed", "user", u.ID, "number", from, "opted_out", out)
		if out {
			return wd.stop
		}
		return wd.start
	}
	verb := string(cmd.Action)
	id := cmd.IncidentID
	if id == 0 {
		ids, err := e.pagedIncidents(ctx, u.ID, verb, sid)
		if err != nil {
			e.log.Error("finding the pages of an SMS reply failed", "user", u.ID, "err", err)
			return failed()
		}
		if replayed && len(ids) != 1 {
			return "" // not a retry of one that acted (that finds its incident): say nothing
		}
		switch len(ids) {
		case 0:
			return wd.noneOpen
		case 1:
			id = ids[0]
		default:
			return severalReply(wd, ids, verb)
		}
	}
	inc, done, err := e.Act(ctx, Action{Incident: id, Verb: verb, User: u.ID, Via: "sms", Dedup: sid, Replayed: replayed})
	switch actOutcome(inc, done, err, sid) {
	case outcomeReplayed:
		return ""
	case outcomeDone:
		return fmt.Sprintf(wd.done[verb], id)
	case outcomeAlreadyAcked:
		return fmt.Sprintf(wd.alreadyAcked, id, userName(cfg, inc.AckedBy))
	case outcomeResolved:
		return fmt.Sprintf(wd.resolved, id)
	case outcomeNotFound:
		return fmt.Sprintf(wd.notFound, id)
	case outcomeForbidden:
		return wordsFor(smsTexts, cfg.Global.Language).unknown
	}
	e.log.Error("acting on an SMS reply failed", "incident", id, "user", u.ID, "verb", verb, "err", err)
	return failed()
}

// pagedIncidents are the incidents user was paged for that verb can still
// act on, oldest first: open ones for ack, acked ones too for resolve and
// escalate. A provider's retry of a reply that already acted (sid in
// Handled) finds the incident it acted on, whatever its status now.
func (e *Engine) pagedIncidents(ctx context.Context, user, verb, sid string) ([]int64, error) {
	var ids []int64
	for _, st := range []store.Status{store.StatusOpen, store.StatusAcked, store.StatusResolved} {
		opt := store.ListOptions{Status: st}
		if st == store.StatusResolved {
			if sid == "" {
				continue
			}
			opt.Limit = retryScan
		}
		incs, err := e.opts.Store.List(ctx, opt)
		if err != nil {
			return nil, fmt.Errorf("list %s incidents: %w", st, err)
		}
		for _, inc := range incs {
			if sid != "" && slices.Contains(inc.Handled, sid) {
				return []int64{inc.ID}, nil
			}
			if st == store.StatusResolved || (st == store.StatusAcked && verb == "ack") {
				continue
			}
			paged, err := e.pagedUser(ctx, inc.ID, user)
			if err != nil {
				return nil, err
			}
			if paged {
				ids = append(ids, inc.ID)
			}
		}
	}
	slices.Sort(ids)
	return ids, nil
}

// pagedUser says whether a page of incident id reached user (a report to a
// stakeholder does not count: stakeholders are informed, not paged).
func (e *Engine) pagedUser(ctx context.Context, id int64, user string) (bool, error) {
	tl, err := e.opts.Store.Timeline(ctx, id)
	if err != nil {
		return false, fmt.Errorf("timeline of incident %d: %w", id, err)
	}
	for _, ev := range tl {
		if ev.Type == "notified" && ev.Detail["to"] == user && ev.Detail["kind"] == "page" {
			return true, nil
		}
	}
	return false, nil
}

// userByPhone is the user whose SMS number is number, else the one whose
// voice number is; nil when nobody's is.
func userByPhone(cfg *config.Config, number string) *config.User {
	if number == "" {
		return nil
	}
	for _, u := range cfg.Users {
		if u.Contacts.Get(config.ChannelSMS) == number {
			return u
		}
	}
	for _, u := range cfg.Users {
		if u.Contacts.Get(config.ChannelVoice) == number {
			return u
		}
	}
	return nil
}

func userName(cfg *config.Config, id string) string {
	if u := cfg.User(id); u != nil && u.Name != "" {
		return u.Name
	}
	return id
}

// smsOptedOut fails an SMS to a number that sent STOP as permanent, so the
// person's next contact method is paged at once instead of after a send
// Twilio would refuse.
func (e *Engine) smsOptedOut(ctx context.Context, to string) error {
	out, err := e.opts.Store.OptedOut(ctx, to)
	if err != nil {
		// A page matters more than the flag: should the number have opted
		// out, Twilio refuses the send and the failover follows from that.
		e.log.Warn("reading SMS opt-out failed; sending anyway", "err", err)
		return nil
	}
	if out {
		return channels.Permanent("", errors.New("opted out by STOP (START resumes)"))
	}
	return nil
}

// outcome is what became of a person's action, for the answer they get.
type outcome int

const (
	outcomeDone outcome = iota
	outcomeAlreadyAcked
	outcomeResolved
	outcomeNotFound
	outcomeForbidden
	outcomeReplayed
	outcomeFailed
)

// actOutcome reads Act's result. A retry of a request that already acted
// (dedup in Handled) gets the same answer as the first delivery.
func actOutcome(inc *store.Incident, done bool, err error, dedup string) outcome {
	switch {
	case errors.Is(err, ErrReplayed):
		return outcomeReplayed
	case errors.Is(err, ErrResolved):
		return outcomeResolved
	case errors.Is(err, ErrNotFound):
		return outcomeNotFound
	case errors.Is(err, ErrForbidden):
		return outcomeForbidden
	case err != nil || inc == nil:
		return outcomeFailed
	case done, dedup != "" && slices.Contains(inc.Handled, dedup):
		return outcomeDone
	case inc.Status == store.StatusResolved:
		return outcomeResolved
	}
	return outcomeAlreadyAcked
}

// smsWords are the reply texts in one language. They stay short: a reply
// longer than one SMS segment costs more and may arrive in pieces.
type smsWords struct {
	done         map[string]string // verb → text with the id
	verbs        map[string]string // verb → the word to reply with
	alreadyAcked string            // id, who
	resolved     string            // id
	notFound     string            // id
	noneOpen     string
	several      string // ids, an id, a verb word
	more         string // appended to a cut list of ids: how many were left out
	help         string
	notUnderstood,
	unknown, stop, start, failed string
}

var smsTexts = map[string]smsWords{
	"en": {
		done: map[string]string{
			"ack":      "#%d acknowledged. Escalation stopped.",
			"resolve":  "#%d resolved.",
			"escalate": "#%d escalated to the next step.",
		},
		verbs:         map[string]string{"ack": "ack", "resolve": "resolve", "escalate": "escalate"},
		alreadyAcked:  "#%d was already acknowledged by %s. Nothing changed.",
		resolved:      "#%d is already resolved. Nothing changed.",
		notFound:      "There is no incident #%d. Nothing changed.",
		noneOpen:      "You have no open page. Reply with its id, e.g. 'ack 12'.",
		several:       "Open: %s. Reply with the id, e.g. '%d %s'.",
		more:          " (+%d more)",
		help:          "Reply 'ack 12' or '12a' to acknowledge, '12r' to resolve, '12e' to escalate; 'ack' alone acts on your only open page. STOP ends SMS pages, START resumes them.",
		notUnderstood: "Not understood.",
		unknown:       "This number is not registered with hikyaku. Nothing changed.",
		stop:          "SMS pages stopped: you will be paged by your other contact methods. Reply START to resume.",
		start:         "SMS pages resumed.",
		failed:        "That could not be recorded. Please try again.",
	},
	"ja": {
		done: map[string]string{
			"ack":      "#%d 了解しました。エスカレーションを停止しました。",
			"resolve":  "#%d を解決済みにしました。",
			"escalate": "#%d を次の段階へエスカレーションしました。",
		},
		verbs:         map[string]string{"ack": "了解", "resolve": "解決", "escalate": "エスカレ"},
		alreadyAcked:  "#%d は%sさんが既に了解済みです。変更はありません。",
		resolved:      "#%d は既に解決済みです。変更はありません。",
		notFound:      "インシデント #%d はありません。変更はありません。",
		noneOpen:      "対応待ちの呼び出しはありません。番号を付けて返信してください（例:「12 了解」）。",
		several:       "対応待ち: %s。番号を付けて返信してください（例:「%d %s」）。",
		more:          "（他%d件）",
		help:          "了解:「12 了解」か「12a」、解決:「12r」、エスカレーション:「12e」。番号なしの「了解」は対応待ちが一件のときだけ。STOPでSMS停止、STARTで再開。",
		notUnderstood: "読み取れませんでした。",
		unknown:       "この番号は飛脚に登録されていません。変更はありません。",
		stop:          "SMSでの呼び出しを停止しました。他の連絡手段で呼び出します。再開するには START と返信してください。",
		start:         "SMSでの呼び出しを再開しました。",
		failed:        "記録できませんでした。もう一度送ってください。",
	},
}

// wordsFor picks a text table by language, English when there is none.
func wordsFor[T any](texts map[string]T, lang string) T {
	if wd, ok := texts[lang]; ok {
		return wd
	}
	return texts["en"]
}

// severalReply lists the ids a bare verb could mean, as many as fit in one
// SMS segment with how many were left out: a reply of ten segments to a
// person paged for forty incidents costs ten messages and reads worse.
func severalReply(wd smsWords, ids []int64, verb string) string {
	for k := len(ids); ; k-- {
		list := make([]string, k)
		for i, id := range ids[:k] {
			list[i] = strconv.FormatInt(id, 10)
		}
		ls := strings.Join(list, ", ")
		if k < len(ids) {
			ls += fmt.Sprintf(wd.more, len(ids)-k)
		}
		text := fmt.Sprintf(wd.several, ls, ids[0], wd.verbs[verb])
		if k == 1 || twilio.Segments(text) <= 1 {
			return text
		}
	}
}
