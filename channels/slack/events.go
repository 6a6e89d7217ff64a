package slack

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"regexp"
	"strings"

	"github.com/hikyaku/hikyaku/catalog"
	"github.com/hikyaku/hikyaku/channels"
	"github.com/hikyaku/hikyaku/channels/reply"
	"github.com/hikyaku/hikyaku/config"
)

// EventsPath, under global.external_url, is the Slack app's Events API
// Request URL: replies in the threads of hikyaku's messages are notes.
const EventsPath = "/api/v1/slack/events"

// maxEventBytes bounds an event body: a message event is a few kilobytes,
// its text at most Slack's 40,000 characters.
const maxEventBytes = 256 << 10

// envelope is the part of an Events API request hikyaku reads: Slack's
// url_verification handshake, or an event_callback carrying one event.
type envelope struct {
	Type      string       `json:"type"`
	Challenge string       `json:"challenge"`
	EventID   string       `json:"event_id"`
	Event     messageEvent `json:"event"`
}

// messageEvent is a message event: who wrote what, where, in which thread.
type messageEvent struct {
	Type     string `json:"type"`
	Subtype  string `json:"subtype"`
	User     string `json:"user"`
	BotID    string `json:"bot_id"`
	Channel  string `json:"channel"`
	Text     string `json:"text"`
	TS       string `json:"ts"`
	ThreadTS string `json:"thread_ts"`
}

// errNotEnvelope is a body that is no Events API request.
var errNotEnvelope = errors.New("want Slack's Events API JSON")

// parseEnvelope reads an Events API body; a url_verification must carry
// its challenge and an event_callback its event_id.
func parseEnvelope(body []byte) (*envelope, error) {
	var env envelope
	if err := json.Unmarshal(body, &env); err != nil {
		return nil, fmt.Errorf("%w: %v", errNotEnvelope, err)
	}
	switch {
	case env.Type == "url_verification" && env.Challenge == "":
		return nil, fmt.Errorf("%w: url_verification without a challenge", errNotEnvelope)
	case env.Type == "event_callback" && env.EventID == "":
		return nil, fmt.Errorf("%w: event_callback without an event_id", errNotEnvelope)
	case env.Type != "url_verification" && env.Type != "event_callback":
		return nil, fmt.Errorf("%w: type %q", errNotEnvelope, env.Type)
	}
	return &env, nil
}

// threadReply says whether ev is a person's reply in a thread: a plain
// message (or one also sent to the channel) by a user, not a bot, whose
// thread is another message's.
func (ev *messageEvent) threadReply() bool {
	return ev.Type == "message" && (ev.Subtype == "" || ev.Subtype == "thread_broadcast") && ev.BotID == "" &&
		ev.User != "" && ev.Channel != "" && ev.ThreadTS != "" && ev.ThreadTS != ev.TS
}

// slackLink is a link as Slack marks it up in a message's text: the URL
// the person wrote (or pasted), and the label Slack shows for it.
var slackLink = regexp.MustCompile(`<(https?://[^|>\s]+)(\|[^>]*)?>`)

// slackText is a message's text as the person wrote it: Slack escapes &,
// < and > in what it sends, and marks a URL up as <url|label>, which is
// the URL again (a prevention ticket's link must stay one in a report's
// mail). Only markup has a bare <: a person's own is escaped.
func slackText(s string) string {
	s = slackLink.ReplaceAllString(s, "$1")
	return strings.NewReplacer("&lt;", "<", "&gt;", ">", "&amp;", "&").Replace(s)
}

// events takes Events API requests. Only requests signed with
// providers.slack.signing_secret within the last five minutes are read,
// the url_verification handshake included; anything else is 401. Every
// signed event is answered 200 at once whatever became of it, so Slack
// does not retry it: what happened is logged and, for a note, on the
// incident's timeline.
func (in *inbound) events(w http.ResponseWriter, r *http.Request) {
	cfg := in.r.Config()
	secret := ""
	if sl := cfg.Providers.Slack; sl != nil {
		secret, _ = sl.SigningSecret.Reveal()
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxEventBytes))
	if err != nil {
		http.Error(w, "reading body: "+err.Error(), http.StatusBadRequest)
		return
	}
	if err := verify(r.Header, secret, body); err != nil {
		in.log.Warn("slack event refused", "remote", r.RemoteAddr, "err", err)
		http.Error(w, "unauthorized", http.StatusUnauthorized)
		return
	}
	env, err := parseEnvelope(body)
	if err != nil {
		in.log.Warn("slack event unreadable", "remote", r.RemoteAddr, "err", err)
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	if env.Type == "url_verification" {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		io.WriteString(w, env.Challenge)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), budget)
	defer cancel()
	if err := in.note(ctx, env); err != nil {
		// The store did not answer: Slack's retry may find it back.
		in.log.Error("slack thread reply could not be recorded", "event_id", env.EventID, "err", err)
		http.Error(w, "try again", http.StatusServiceUnavailable)
		return
	}
	w.WriteHeader(http.StatusOK)
}

// note makes a person's reply in the thread of a hikyaku message a note on
// its incident. Anything else (a message elsewhere, a bot's) is left alone.
func (in *inbound) note(ctx context.Context, env *envelope) error {
	ev := &env.Event
	if !ev.threadReply() {
		return nil
	}
	log := in.log.With("slack_user", ev.User, "channel", ev.Channel, "thread_ts", ev.ThreadTS, "event_id", env.EventID)
	d, err := in.r.Posted(ctx, string(config.ChannelSlack), ev.Channel+"/"+ev.ThreadTS)
	switch {
	case errors.Is(err, channels.ErrNoIncident):
		log.Debug("slack thread reply to a message that is no hikyaku message: ignored")
		return nil
	case err != nil:
		return fmt.Errorf("the message of thread %s/%s: %w", ev.Channel, ev.ThreadTS, err)
	}
	log = log.With("incident", d.Incident)
	cfg := in.r.Config()
	us := in.r.Owners(string(config.ChannelSlack), ev.User)
	if len(us) == 0 {
		in.r.Unknown(ctx, string(config.ChannelSlack), ev.User)
		log.Warn("slack thread reply by someone who is no hikyaku user: no note written")
		in.tell(ctx, log, env, d.Incident, catalog.For(cfg.Global.Language).T("slack.note_not_user", d.Incident, ev.User))
		return nil
	}
	u := us[0]
	n, ok := reply.ParseNote(slackText(ev.Text))
	if !ok {
		log.Info("slack thread reply without text: no note written", "user", u.ID)
		return nil
	}
	// event_id names one event however often Slack delivers it.
	a := channels.Action{Incident: d.Incident, Verb: channels.AddNote, User: u.ID, Via: "slack",
		Dedup: "slack:event:" + env.EventID, Note: channels.NoteText{Text: n.Text, Decision: n.Decision, Fields: channels.NoteFields(n.Fields),
			Severity: n.Severity, SeverityReason: n.SeverityReason}}
	res, err := channels.ActOnce(ctx, in.r, a, ReplayKeep)
	if err != nil {
		return fmt.Errorf("note on incident %d: %w", d.Incident, err)
	}
	switch res.Outcome {
	case channels.Done:
		log.Info("slack thread reply noted", "user", u.ID, "decision", n.Decision, "retry", res.Retry)
		// The thread shows the note; which of its lines set fields, it
		// does not: the author is told, so a line taken wrongly shows.
		if lines := a.Note.Labelled(u.Language); len(lines) > 0 && !res.Retry {
			in.tell(ctx, log, env, d.Incident, catalog.For(u.Language).T("slack.note_fields", d.Incident)+"\n"+strings.Join(lines, "\n"))
		}
	case channels.Replayed:
		log.Warn("slack event seen before: nothing changed", "user", u.ID)
	case channels.NotFound:
		log.Warn("slack thread reply to an incident no longer kept: no note written", "user", u.ID)
		in.tell(ctx, log, env, d.Incident, catalog.For(u.Language).T("slack.not_found", d.Incident))
	default:
		log.Warn("slack thread reply refused: no note written", "user", u.ID, "outcome", res.Outcome, "reason", res.Reason)
		in.tell(ctx, log, env, d.Incident, catalog.For(u.Language).T("slack.note_refused", d.Incident, res.Reason))
	}
	return nil
}

// kindNotice marks an answer to a person's reply; it is no page.
const kindNotice channels.Kind = "notice"

// tell answers the author of a thread reply that wrote no note (or set
// report fields), in the thread and to them alone (chat.postEphemeral): why is theirs to read,
// not the channel's, and a thread reply would notify everyone following
// the incident's thread. Slack shows an ephemeral message in a thread that
// has replies, which this one has: theirs. Slack's retry of the event is
// answered once. A failure is logged only: the refusal stands either way.
func (in *inbound) tell(ctx context.Context, log *slog.Logger, env *envelope, incident int64, text string) {
	ev := &env.Event
	if replayed, err := in.r.Seen(ctx, "slack", "slack:answer:"+env.EventID, ReplayKeep); err != nil || replayed {
		return
	}
	m := &channels.Message{IdempotencyKey: "slack-answer/" + env.EventID, Channel: string(config.ChannelSlack), Kind: kindNotice,
		IncidentID: incident, To: ev.Channel, Thread: ev.ThreadTS, Ephemeral: ev.User, Text: text}
	if _, err := in.r.Send(ctx, m); err != nil {
		log.Warn("slack answer to a thread reply not sent", "err", err)
	}
}
