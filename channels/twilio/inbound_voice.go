package twilio

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/hikyaku/hikyaku/catalog"
	"github.com/hikyaku/hikyaku/channels"
)

// maxReprompts is how often a call asks again for a key after a wrong one or
// silence before it says goodbye: enough for a fumble, not a loop.
const maxReprompts = 2

// keypad maps the keys the call's prompt offers to actions.
var keypad = map[string]channels.Verb{"1": channels.Ack, "2": channels.Escalate, "3": channels.Resolve}

// gather takes the key the callee pressed during a page call (the Gather
// action of the call's TwiML). The person is the call's To number, for
// hikyaku placed the call; it must be a configured user's.
func (in *inbound) gather(w http.ResponseWriter, r *http.Request) {
	cfg := in.r.Config()
	r.Body = http.MaxBytesReader(w, r.Body, maxForm)
	form, err := Verify(r, authToken(cfg), cfg.Global.ExternalURL)
	switch {
	case errors.Is(err, ErrSignature):
		in.log.Warn("keypad answer refused: not signed by Twilio (is global.external_url the URL Twilio calls?)", "err", err)
		http.Error(w, "forbidden", http.StatusForbidden)
		return
	case err != nil:
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	u := phoneOwner(in.r, form.Get("To"))
	if u == nil {
		in.log.Info("keypad answer on a call to a number no user has: nothing changed", "to", form.Get("To"))
		lang := cfg.Global.Language
		doc, err := SayAndHangUp(lang, catalog.Text(lang, "voice.unknown"))
		writeTwiML(w, doc, err)
		return
	}
	lang := u.Language
	t := catalog.For(lang)
	q := r.URL.Query()
	id, err := strconv.ParseInt(q.Get("incident"), 10, 64)
	if err != nil || id <= 0 {
		doc, err := SayAndHangUp(lang, t.T("voice.not_found"))
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
	res, err := channels.ActOnce(r.Context(), in.r, channels.Action{Incident: id, Verb: verb, User: u.ID, Via: "voice", Dedup: dedup}, ReplayKeep)
	var text string
	switch {
	case err != nil:
	case res.Outcome == channels.Replayed:
		// A captured post sent again: its call is long over. Say nothing.
	case res.Outcome == channels.Done:
		text = t.T(catalog.Key("voice.done." + string(verb)))
	case res.Outcome == channels.AlreadyAcked:
		text = t.T("voice.already_acked", userName(cfg, res.Incident.AckedBy))
	case res.Outcome == channels.AlreadyResolved:
		text = t.T("voice.resolved")
	case res.Outcome == channels.NotFound:
		text = t.T("voice.not_found")
	case res.Outcome == channels.Forbidden:
		text = t.T("voice.unknown")
	default:
		err = fmt.Errorf("twilio: unexpected outcome %q", res.Outcome)
	}
	if err != nil {
		in.log.Error("acting on a keypad answer failed", "incident", id, "user", u.ID, "verb", verb, "err", err)
		// The callee is still on the line: let them press again.
		doc, err := reprompt(cfg.Global.ExternalURL, q, lang, t.T("voice.failed"))
		writeTwiML(w, doc, err)
		return
	}
	doc, err := SayAndHangUp(lang, text)
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
		return Goodbye(lang)
	}
	next := url.Values{}
	for k, v := range q {
		next[k] = v
	}
	next.Set("repeat", strconv.Itoa(n+1))
	action := strings.TrimRight(externalURL, "/") + GatherPath + "?" + next.Encode()
	return Reprompt(lang, action, first)
}
