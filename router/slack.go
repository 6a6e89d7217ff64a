package router

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/slack-go/slack"

	hslack "github.com/hikyaku/hikyaku/channels/slack"
	"github.com/hikyaku/hikyaku/config"
	"github.com/hikyaku/hikyaku/store"
)

// Slack gives an interaction 3 s; acting and the answer to the person get
// this much of it, and no more.
const slackBudget = 2500 * time.Millisecond

// maxInteractionBytes bounds an interaction body: it carries the whole
// message the button was on, a few kilobytes.
const maxInteractionBytes = 1 << 20

var slackVerbs = map[string]string{
	hslack.ActionAck:      "ack",
	hslack.ActionResolve:  "resolve",
	hslack.ActionEscalate: "escalate",
}

// slackInteraction takes button presses (Slack's interactivity Request
// URL). Only requests signed with providers.slack.signing_secret within the
// last five minutes are read; anything else is 401 and changes nothing.
func (s *Server) slackInteraction(w http.ResponseWriter, r *http.Request) {
	e := s.Engine
	cfg := e.Policies().Config()
	secret := ""
	if sl := cfg.Providers.Slack; sl != nil {
		secret, _ = sl.SigningSecret.Reveal()
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxInteractionBytes))
	if err != nil {
		http.Error(w, "reading body: "+err.Error(), http.StatusBadRequest)
		return
	}
	if err := verifySlack(r.Header, secret, body); err != nil {
		e.log.Warn("slack interaction refused", "remote", r.RemoteAddr, "err", err)
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
	ctx, cancel := context.WithTimeout(r.Context(), slackBudget)
	defer cancel()
	if msg := s.slackAct(ctx, &cb); msg != "" {
		e.slackAnswer(ctx, cb.ResponseURL, msg)
	}
	w.WriteHeader(http.StatusOK)
}

// verifySlack is slack-go's check of X-Slack-Signature, which also refuses
// an X-Slack-Request-Timestamp more than five minutes from now: a captured
// request cannot be replayed later.
func verifySlack(h http.Header, secret string, body []byte) error {
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

// slackAct carries out the first hikyaku button of a block_actions payload
// and returns what the person should be told, or "" when the message
// update says it all. The engine rewrites the incident's Slack messages
// after an ack or resolve (update.go), durably and retried, whichever
// channel it came from; Act has woken it.
func (s *Server) slackAct(ctx context.Context, cb *slack.InteractionCallback) string {
	e := s.Engine
	if cb.Type != slack.InteractionTypeBlockActions {
		return ""
	}
	var act *slack.BlockAction
	for _, a := range cb.ActionCallback.BlockActions {
		if _, ok := slackVerbs[a.ActionID]; ok {
			act = a
			break
		}
	}
	if act == nil {
		return "" // a link button (runbook, dashboard): Slack opened the URL
	}
	log := e.log.With("slack_user", cb.User.ID, "action", act.ActionID, "value", act.Value)
	u := slackUser(e.Policies().Config(), cb.User.ID)
	if u == nil {
		log.Warn("slack button pressed by someone who is no hikyaku user: nothing changed")
		return "You are not a hikyaku user: nothing was changed. Ask an admin to add your Slack id (" + cb.User.ID + ") to users[].contacts.slack."
	}
	id, err := strconv.ParseInt(act.Value, 10, 64)
	if err != nil || id <= 0 {
		log.Warn("slack button with a value that is no incident id")
		return "This button names no incident: nothing was changed."
	}
	ts := act.ActionTs
	if ts == "" {
		ts = cb.ActionTs
	}
	a := Action{Incident: id, Verb: slackVerbs[act.ActionID], User: u.ID, Via: "slack"}
	var inc *store.Incident
	if ts == "" {
		// Slack always sends one; without it there is nothing to know a
		// repeat by, and verifySlack's five minutes are the only bound.
		log.Warn("slack button press without action_ts: acting without replay protection")
		inc, _, err = e.Act(ctx, a)
	} else {
		// action_ts names one press by one person.
		a.Dedup = "slack:" + cb.User.ID + ":" + ts
		inc, _, err = e.actOnce(ctx, a, slackKeep)
	}
	switch {
	case errors.Is(err, ErrReplayed):
		return "" // a captured request sent again: nobody pressed anything
	case errors.Is(err, ErrNotFound):
		return fmt.Sprintf("There is no incident #%d: nothing was changed.", id)
	case errors.Is(err, ErrResolved):
		return fmt.Sprintf("Incident #%d is already resolved: nothing was changed.", id)
	case err != nil:
		log.Error("slack action could not be recorded", "incident", id, "err", err)
		return fmt.Sprintf("Could not record that for incident #%d, please try again.", id)
	case a.Verb == "ack" && inc.AckedBy != u.ID:
		return fmt.Sprintf("Incident #%d was already acknowledged by %s.", id, inc.AckedBy)
	}
	return ""
}

// slackUser is the configured user with Slack id id, or nil.
func slackUser(cfg *config.Config, id string) *config.User {
	if id == "" {
		return nil
	}
	for _, u := range cfg.Users {
		if u.Contacts.Get(config.ChannelSlack) == id {
			return u
		}
	}
	return nil
}

// slackAnswer shows text to the person who pressed the button only (an
// ephemeral message through the interaction's response_url).
func (e *Engine) slackAnswer(ctx context.Context, responseURL, text string) {
	if responseURL == "" {
		return
	}
	body, _ := json.Marshal(map[string]any{"response_type": "ephemeral", "replace_original": false, "text": text})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, responseURL, bytes.NewReader(body))
	if err != nil {
		e.log.Warn("slack answer: bad response_url", "err", err)
		return
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.log.Warn("slack answer not delivered", "err", err)
		return
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, 4096))
	resp.Body.Close()
	if resp.StatusCode >= 300 {
		e.log.Warn("slack answer refused", "status", resp.StatusCode)
	}
}
