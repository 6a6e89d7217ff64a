package fakeslack

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/slack-go/slack"
)

// TestInteractionVerifiesWithSlackGo checks Sign against slack-go's own
// verifier, the one an app uses: a fresh request passes, an old one, another
// secret and a changed body do not.
func TestInteractionVerifiesWithSlackGo(t *testing.T) {
	var got []error
	var payloads []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		v, err := slack.NewSecretsVerifier(r.Header, "shh")
		if err == nil {
			v.Write(body)
			err = v.Ensure()
		}
		got = append(got, err)
		r.Body = io.NopCloser(bytes.NewReader(body))
		r.ParseForm()
		payloads = append(payloads, r.PostForm.Get("payload"))
	}))
	defer srv.Close()
	post := func(opts ...InteractionOption) {
		t.Helper()
		resp, err := Interaction(srv.URL, "shh", []byte(`{"type":"block_actions"}`), opts...)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	post()
	post(At(time.Now().Add(-6 * time.Minute)))
	post(SignedWith("not-the-secret"))
	if got[0] != nil {
		t.Errorf("a fresh signed request: %v", got[0])
	}
	if !errors.Is(got[1], slack.ErrExpiredTimestamp) {
		t.Errorf("a six-minute-old request: %v, want ErrExpiredTimestamp", got[1])
	}
	if !errors.Is(got[2], slack.ErrInvalidSignature) {
		t.Errorf("another secret: %v, want ErrInvalidSignature", got[2])
	}
	if payloads[0] != `{"type":"block_actions"}` {
		t.Errorf("payload field: %q", payloads[0])
	}
	if Sign("shh", 1700000000, []byte("payload=x")) == Sign("shh", 1700000000, []byte("payload=y")) {
		t.Error("the signature does not cover the body")
	}
}

// TestClickPressesOnlyPostedButtons builds a press of a button hikyaku
// posted: the value is the message's, and a button updated away cannot be pressed.
func TestClickPressesOnlyPostedButtons(t *testing.T) {
	s := New("xoxb-t")
	defer s.Close()
	api := slack.New("xoxb-t", slack.OptionAPIURL(s.URL()))
	ack := slack.NewButtonBlockElement("hikyaku_ack", "42", slack.NewTextBlockObject(slack.PlainTextType, "Ack", false, false))
	ch, ts, err := api.PostMessageContext(context.Background(), "U0ALICE", slack.MsgOptionText("page", false),
		slack.MsgOptionBlocks(slack.NewActionBlock("hikyaku_actions", ack)))
	if err != nil {
		t.Fatal(err)
	}
	raw, err := s.Click("U0ALICE", ch, ts, "hikyaku_ack")
	if err != nil {
		t.Fatal(err)
	}
	var cb slack.InteractionCallback
	if err := json.Unmarshal(raw, &cb); err != nil {
		t.Fatal(err)
	}
	acts := cb.ActionCallback.BlockActions
	if cb.Type != slack.InteractionTypeBlockActions || cb.User.ID != "U0ALICE" || len(acts) != 1 ||
		acts[0].ActionID != "hikyaku_ack" || acts[0].Value != "42" || acts[0].ActionTs == "" ||
		cb.Container.ChannelID != ch || cb.Container.MessageTs != ts || cb.ResponseURL == "" {
		t.Fatalf("click payload: %+v", cb)
	}
	again, _ := s.Click("U0ALICE", ch, ts, "hikyaku_ack")
	var cb2 slack.InteractionCallback
	json.Unmarshal(again, &cb2)
	if cb2.ActionCallback.BlockActions[0].ActionTs == acts[0].ActionTs {
		t.Error("two presses share an action_ts")
	}
	if _, err := s.Click("U0ALICE", ch, ts, "hikyaku_resolve"); err == nil {
		t.Error("pressed a button the message does not have")
	}
	if _, _, _, err := api.UpdateMessageContext(context.Background(), ch, ts, slack.MsgOptionText("acked", false)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Click("U0ALICE", ch, ts, "hikyaku_ack"); err == nil {
		t.Error("pressed a button that was updated away")
	}

	// The app answers the presser through response_url.
	resp, err := http.Post(cb.ResponseURL, "application/json", bytes.NewReader([]byte(`{"response_type":"ephemeral","text":"hi"}`)))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if r := s.Responses(); len(r) != 1 || r[0].Text != "hi" || r[0].ResponseType != "ephemeral" {
		t.Errorf("responses: %+v", r)
	}
}
