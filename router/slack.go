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
	"strings"
	"sync"
	"time"

	"github.com/slack-go/slack"

	"github.com/hikyaku/hikyaku/channels"
	hslack "github.com/hikyaku/hikyaku/channels/slack"
	"github.com/hikyaku/hikyaku/config"
	"github.com/hikyaku/hikyaku/store"
)

// Slack gives an interaction 3 s; the message updates and the answer to
// the person get what is left after acting, and no more.
const slackBudget = 2500 * time.Millisecond

// maxInteractionBytes bounds an interaction body: it carries the whole
// message the button was on, a few kilobytes.
const maxInteractionBytes = 1 << 20

// messageUpdater rewrites a message already sent (the Slack sender's
// Update): once someone acted, the buttons go and the status says who.
type messageUpdater interface {
	Update(ctx context.Context, providerID string, m *channels.Message) error
}

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
// update says it all.
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
	a := Action{Incident: id, Verb: slackVerbs[act.ActionID], User: u.ID, Via: "slack", Dedup: "slack:" + ts}
	inc, _, err := e.Act(ctx, a)
	answer := ""
	switch {
	case errors.Is(err, ErrNotFound):
		return fmt.Sprintf("There is no incident #%d: nothing was changed.", id)
	case errors.Is(err, ErrResolved):
		answer = fmt.Sprintf("Incident #%d is already resolved: nothing was changed.", id)
		inc, err = e.opts.Store.Get(ctx, id)
		if err != nil {
			return answer
		}
	case err != nil:
		log.Error("slack action could not be recorded", "incident", id, "err", err)
		return fmt.Sprintf("Could not record that for incident #%d, please try again.", id)
	case a.Verb == "ack" && inc.AckedBy != u.ID:
		answer = fmt.Sprintf("Incident #%d was already acknowledged by %s.", id, inc.AckedBy)
	}
	clicked := ""
	if cb.Container.ChannelID != "" && cb.Container.MessageTs != "" {
		clicked = cb.Container.ChannelID + "/" + cb.Container.MessageTs
	} else if cb.Channel.ID != "" && cb.Message.Timestamp != "" {
		clicked = cb.Channel.ID + "/" + cb.Message.Timestamp
	}
	e.updateSlackMessages(ctx, inc, clicked, u.ID)
	return answer
}

// slackUser is the configured user with Slack id id, or nil.
func slackUser(cfg *config.Config, id string) *config.User {
	if id == "" {
		return nil
	}
	for _, u := range cfg.Users {
		if u.Contacts.Slack == id {
			return u
		}
	}
	return nil
}

// updateSlackMessages rewrites every Slack page of the incident (the one
// pressed, the #channel's and the other people's DMs) to the incident as it
// stands, so no stale Ack button is left anywhere.
func (e *Engine) updateSlackMessages(ctx context.Context, inc *store.Incident, clicked, actor string) {
	up, ok := (*e.senders.Load())[string(config.ChannelSlack)].(messageUpdater)
	if !ok {
		return // a recording sender (no Slack provider): nothing was really posted
	}
	targets := map[string]notifyPayload{} // receipt → who the page was for
	evs, err := e.opts.Store.Timeline(ctx, inc.ID)
	if err != nil {
		e.log.Warn("slack update: reading the timeline", "incident", inc.ID, "err", err)
	}
	for _, ev := range evs {
		if ev.Type != "notified" || ev.Detail["channel"] != string(config.ChannelSlack) || ev.Detail["kind"] != "page" || ev.Detail["provider_id"] == "" {
			continue
		}
		p := notifyPayload{User: ev.Detail["to"]}
		if name, ok := strings.CutPrefix(ev.Detail["to"], "#"); ok {
			p = notifyPayload{ChatChannel: name}
		}
		targets[ev.Detail["provider_id"]] = p
	}
	if _, ok := targets[clicked]; !ok && clicked != "" {
		// Not on this incident's timeline (posted before a restore, or
		// by another tool): rewrite it in the presser's language.
		targets[clicked] = notifyPayload{User: actor}
	}
	var wg sync.WaitGroup
	for receipt, p := range targets {
		p.Kind, p.Channel = "page", string(config.ChannelSlack)
		p.Gen, p.Round, p.Step = inc.Escalation.Generation, inc.Escalation.Round, max(inc.Escalation.Step, 0)
		m, err := e.message(inc, &p, "update/"+receipt)
		if err != nil {
			e.log.Warn("slack update: building the message", "incident", inc.ID, "receipt", receipt, "err", err)
			continue
		}
		wg.Go(func() {
			if err := up.Update(ctx, receipt, m); err != nil {
				e.log.Warn("slack message not updated", "incident", inc.ID, "receipt", receipt, "err", err)
			}
		})
	}
	wg.Wait()
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
