package router

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/hikyaku/hikyaku/channels/twilio"
)

// maxReprompts is how often a call asks again for a key after a wrong one or
// silence before it says goodbye: enough for a fumble, not a loop.
const maxReprompts = 2

// keypad maps the keys the call's prompt offers to actions.
var keypad = map[string]string{"1": "ack", "2": "escalate", "3": "resolve"}

// twilioGather takes the key the callee pressed during a page call (the
// Gather action of channels/twilio's call TwiML). The person is the call's To
// number, for hikyaku placed the call; it must be a configured user's.
func (s *Server) twilioGather(w http.ResponseWriter, r *http.Request) {
	e := s.Engine
	cfg := e.Policies().Config()
	r.Body = http.MaxBytesReader(w, r.Body, maxTwilioForm)
	form, err := twilio.Verify(r, twilioAuthToken(cfg), cfg.Global.ExternalURL)
	switch {
	case errors.Is(err, twilio.ErrSignature):
		e.log.Warn("keypad answer refused: not signed by Twilio (is global.external_url the URL Twilio calls?)", "err", err)
		http.Error(w, "forbidden", http.StatusForbidden)
		return
	case err != nil:
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	u := userByPhone(cfg, form.Get("To"))
	if u == nil {
		e.log.Info("keypad answer on a call to a number no user has: nothing changed", "to", form.Get("To"))
		lang := cfg.Global.Language
		doc, err := twilio.SayAndHangUp(lang, wordsFor(voiceTexts, lang).unknown)
		writeTwiML(w, doc, err)
		return
	}
	lang := u.Language
	wd := wordsFor(voiceTexts, lang)
	q := r.URL.Query()
	id, err := strconv.ParseInt(q.Get("incident"), 10, 64)
	if err != nil || id <= 0 {
		doc, err := twilio.SayAndHangUp(lang, wd.notFound)
		writeTwiML(w, doc, err)
		return
	}
	digits := form.Get("Digits")
	verb, ok := keypad[digits]
	if !ok {
		doc, err := reprompt(cfg.Global.ExternalURL, q, lang, "")
		writeTwiML(w, doc, err)
		return
	}
	// One call can press one key once per prompt: a retry of the same post
	// carries the same CallSid and Digits and acts once.
	dedup := form.Get("CallSid") + "/" + digits
	inc, done, err := e.actOnce(r.Context(), Action{Incident: id, Verb: verb, User: u.ID, Via: "voice", Dedup: dedup}, inboundKeep)
	var text string
	switch actOutcome(inc, done, err, dedup) {
	case outcomeReplayed:
		// A captured post sent again: its call is long over. Say nothing.
	case outcomeDone:
		text = wd.done[verb]
	case outcomeAlreadyAcked:
		text = fmt.Sprintf(wd.alreadyAcked, userName(cfg, inc.AckedBy))
	case outcomeResolved:
		text = wd.resolved
	case outcomeNotFound:
		text = wd.notFound
	case outcomeForbidden:
		text = ForbiddenReason(cfg, err, u.ID)
	default:
		e.log.Error("acting on a keypad answer failed", "incident", id, "user", u.ID, "verb", verb, "err", err)
		// The callee is still on the line: let them press again.
		doc, err := reprompt(cfg.Global.ExternalURL, q, lang, wd.failed)
		writeTwiML(w, doc, err)
		return
	}
	doc, err := twilio.SayAndHangUp(lang, text)
	writeTwiML(w, doc, err)
}

// reprompt asks for a key again, counting the times in the action URL (which
// Twilio signs with the rest), and says goodbye once maxReprompts is reached.
func reprompt(externalURL string, q url.Values, lang, first string) (string, error) {
	n, err := strconv.Atoi(q.Get("repeat"))
	if q.Get("repeat") == "" {
		n, err = 0, nil
	}
	// Only hikyaku writes repeat (and Twilio signs it); anything else ends the call.
	if err != nil || n < 0 || n >= maxReprompts {
		return twilio.Goodbye(lang)
	}
	next := url.Values{}
	for k, v := range q {
		next[k] = v
	}
	next.Set("repeat", strconv.Itoa(n+1))
	action := strings.TrimRight(externalURL, "/") + twilio.GatherPath + "?" + next.Encode()
	return twilio.Reprompt(lang, action, first)
}

// voiceWords are what a call says after a key, in one language.
type voiceWords struct {
	done                                map[string]string // verb → text
	alreadyAcked                        string            // who
	resolved, notFound, unknown, failed string
}

var voiceTexts = map[string]voiceWords{
	"en": {
		done: map[string]string{
			"ack":      "Acknowledged. Escalation stopped.",
			"escalate": "Escalated to the next step.",
			"resolve":  "Resolved.",
		},
		alreadyAcked: "This incident was already acknowledged by %s. Nothing changed.",
		resolved:     "This incident is already resolved. Nothing changed.",
		notFound:     "This incident was not found. Nothing changed.",
		unknown:      "This number is not registered with hikyaku. Nothing changed.",
		failed:       "Sorry, that could not be recorded.",
	},
	"ja": {
		done: map[string]string{
			"ack":      "了解しました。エスカレーションを停止しました。",
			"escalate": "次の段階へエスカレーションしました。",
			"resolve":  "解決済みにしました。",
		},
		alreadyAcked: "このインシデントは%sさんが既に了解済みです。変更はありません。",
		resolved:     "このインシデントは既に解決済みです。変更はありません。",
		notFound:     "このインシデントは見つかりません。変更はありません。",
		unknown:      "この番号は飛脚に登録されていません。変更はありません。",
		failed:       "申し訳ありません。記録できませんでした。",
	},
}
