package slack

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/slack-go/slack"

	"github.com/hikyaku/hikyaku/catalog"
	"github.com/hikyaku/hikyaku/channels"
	"github.com/hikyaku/hikyaku/config"
)

// InteractionsPath, under global.external_url, is the Slack app's
// interactivity Request URL.
const InteractionsPath = "/api/v1/slack/interactions"

// ReplayKeep is how long a button press is remembered: requests are refused
// five minutes either side of their X-Slack-Request-Timestamp, so one
// request is accepted for at most ten minutes of our clock.
const ReplayKeep = 15 * time.Minute

// Slack gives an interaction 3 s; acting and the answer to the person get
// this much of it, and no more.
const budget = 2500 * time.Millisecond

// maxInteractionBytes bounds an interaction body: it carries the whole
// message the button was on, a few kilobytes.
const maxInteractionBytes = 1 << 20

var verbs = map[string]channels.Verb{
	ActionAck:      channels.Ack,
	ActionResolve:  channels.Resolve,
	ActionEscalate: channels.Escalate,
}

// InboundOptions are what the interactions endpoint needs beside the engine.
type InboundOptions struct {
	// Log takes the endpoint's lines; nil discards them.
	Log *slog.Logger
}

type inbound struct {
	r   channels.Receiver
	log *slog.Logger
}

// Routes are the endpoints Slack calls under global.external_url, to be
// served on the public listener.
func Routes(r channels.Receiver, opts InboundOptions) []channels.Route {
	log := opts.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	in := &inbound{r: r, log: log}
	return []channels.Route{
		{Pattern: "POST " + InteractionsPath, MaxBody: maxInteractionBytes, Handler: http.HandlerFunc(in.interaction)},
		{Pattern: "POST " + EventsPath, MaxBody: maxEventBytes, Handler: http.HandlerFunc(in.events)},
	}
}

// interaction takes button presses. Only requests signed with
// providers.slack.signing_secret within the last five minutes are read;
// anything else is 401 and changes nothing.
func (in *inbound) interaction(w http.ResponseWriter, r *http.Request) {
	cfg := in.r.Config()
	secret := ""
	if sl := cfg.Providers.Slack; sl != nil {
		secret, _ = sl.SigningSecret.Reveal()
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxInteractionBytes))
	if err != nil {
		http.Error(w, "reading body: "+err.Error(), http.StatusBadRequest)
		return
	}
	if err := verify(r.Header, secret, body); err != nil {
		in.log.Warn("slack interaction refused", "remote", r.RemoteAddr, "err", err)
		http.Error(w, "unauthorized", http.StatusUnauthorized)
		return
	}
	form, err := url.ParseQuery(string(body))
	var cb slack.InteractionCallback
	if err == nil {
		err = json.Unmarshal([]byte(form.Get("payload")), &cb)
	}
	if err != nil {
		http.Error(w, "payload: want Slack's interaction JSON", http.StatusBadRequest)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), budget)
	defer cancel()
	if msg := in.act(ctx, &cb); msg != "" {
		in.answer(ctx, cb.ResponseURL, msg)
	}
	w.WriteHeader(http.StatusOK)
}

// verify is slack-go's check of X-Slack-Signature, which also refuses an
// X-Slack-Request-Timestamp more than five minutes from now: a captured
// request cannot be replayed later.
func verify(h http.Header, secret string, body []byte) error {
	if secret == "" {
		return errors.New("providers.slack.signing_secret is not set")
	}
	v, err := slack.NewSecretsVerifier(h, secret)
	if err != nil {
		return fmt.Errorf("slack signature: %w", err)
	}
	if _, err := v.Write(body); err != nil {
		return fmt.Errorf("slack signature: %w", err)
	}
	if err := v.Ensure(); err != nil {
		return fmt.Errorf("slack signature: %w", err)
	}
	return nil
}

// act carries out the first hikyaku button of a block_actions payload and
// returns what the person should be told, or "" when the message update
// says it all: the engine rewrites the incident's Slack messages after an
// ack or resolve, durably and retried, whichever channel it came from.
func (in *inbound) act(ctx context.Context, cb *slack.InteractionCallback) string {
	if cb.Type != slack.InteractionTypeBlockActions {
		return ""
	}
	var act *slack.BlockAction
	var role string
	for _, a := range cb.ActionCallback.BlockActions {
		if _, ok := verbs[a.ActionID]; ok {
			act = a
			break
		}
		if r, ok := strings.CutPrefix(a.ActionID, ActionRole); ok && slices.Contains(roleIDs, r) {
			act, role = a, r
			break
		}
	}
	if act == nil {
		return "" // a link button (runbook, dashboard): Slack opened the URL
	}
	// Someone hikyaku does not know is answered in global.language; a user
	// in their own.
	t := catalog.For(in.r.Config().Global.Language)
	log := in.log.With("slack_user", cb.User.ID, "action", act.ActionID, "value", act.Value)
	var u *config.User
	if cb.User.ID != "" {
		if us := in.r.Owners(string(config.ChannelSlack), cb.User.ID); len(us) > 0 {
			u = us[0]
		}
	}
	if u == nil {
		log.Warn("slack button pressed by someone who is no hikyaku user: nothing changed")
		return t.T("slack.not_user", cb.User.ID)
	}
	t = catalog.For(u.Language)
	id, err := strconv.ParseInt(act.Value, 10, 64)
	if err != nil || id <= 0 {
		log.Warn("slack button with a value that is no incident id")
		return t.T("slack.no_incident")
	}
	ts := act.ActionTs
	if ts == "" {
		ts = cb.ActionTs
	}
	a := channels.Action{Incident: id, Verb: verbs[act.ActionID], User: u.ID, Via: "slack"}
	if role != "" {
		a.Verb, a.Role = channels.TakeRole, role
	}
	var res channels.Result
	if ts == "" {
		// Slack always sends one; without it there is nothing to know a
		// repeat by, and verify's five minutes are the only bound.
		log.Warn("slack button press without action_ts: acting without replay protection")
		res, err = in.r.Act(ctx, a)
	} else {
		// action_ts names one press by one person.
		a.Dedup = "slack:" + cb.User.ID + ":" + ts
		res, err = channels.ActOnce(ctx, in.r, a, ReplayKeep)
	}
	switch {
	case err == nil && res.Outcome == channels.Forbidden:
		log.Warn("slack action refused", "incident", id, "user", u.ID, "reason", res.Reason)
		return res.Reason // why, in the person's language
	case err != nil:
		log.Error("slack action could not be recorded", "incident", id, "err", err)
		return t.T("slack.failed", id)
	case res.Outcome == channels.Replayed:
		return "" // a captured request sent again: nobody pressed anything
	case res.Outcome == channels.NotFound:
		return t.T("slack.not_found", id)
	case res.Outcome == channels.AlreadyResolved:
		return t.T("slack.resolved", id)
	case res.Outcome == channels.Invalid:
		return t.T("slack.role_refused", id, res.Reason)
	case a.Verb == channels.TakeRole:
		// The engine rewrites the pages to name the holder; the presser
		// hears at once that the press counted.
		title := res.Incident.RoleTitles[role]
		if title == "" {
			title = t.T(catalog.Key("incident.role." + role))
		}
		if res.Outcome == channels.Unchanged {
			return t.T("slack.role_held", id, title)
		}
		return t.T("slack.role_taken", id, title)
	case a.Verb == channels.Ack && res.Incident.AckedBy != u.ID:
		return t.T("slack.already_acked", id, res.Incident.AckedBy)
	}
	return ""
}

// answer shows text to the person who pressed the button only (an
// ephemeral message through the interaction's response_url).
func (in *inbound) answer(ctx context.Context, responseURL, text string) {
	if responseURL == "" {
		return
	}
	body, _ := json.Marshal(map[string]any{"response_type": "ephemeral", "replace_original": false, "text": text})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, responseURL, bytes.NewReader(body))
	if err != nil {
		in.log.Warn("slack answer: bad response_url", "err", err)
		return
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		in.log.Warn("slack answer not delivered", "err", err)
		return
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, 4096))
	resp.Body.Close()
	if resp.StatusCode >= 300 {
		in.log.Warn("slack answer refused", "status", resp.StatusCode)
	}
}
