package router

import (
	"context"
	"fmt"
	"net/url"
	"slices"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/hikyaku/hikyaku/channels/twilio"
	"github.com/hikyaku/hikyaku/internal/faketwilio"
	"github.com/hikyaku/hikyaku/store"
)

// TestSendsAreRecordedAsDeliveries: each message a sender takes is a
// delivery of its incident, with the address, step and provider id of the
// message as the sender saw it; Paged follows the incident's status.
func TestSendsAreRecordedAsDeliveries(t *testing.T) {
	h := newHarness(t, testConfig)
	id := h.post("firing", "g1", map[string]string{"alertname": "DiskFull", "team": "infra"})[0].ID
	h.advance(0)

	var want []string
	for _, m := range h.sent.Messages() {
		// record.Sender answers with the message's idempotency key as its provider id.
		want = append(want, fmt.Sprintf("%s %s %s %s %s", m.Kind, m.Channel, m.To, m.IdempotencyKey, m.Ref))
	}
	ds, err := h.st.Deliveries(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, d := range ds {
		got = append(got, fmt.Sprintf("%s %s %s %s %s", d.Kind, d.Channel, d.To, d.ProviderID, d.Ref))
		if !d.At.Equal(t0) || d.Incident != id || (d.Kind == "page" && d.Step != 1) {
			t.Errorf("delivery %+v: want at %v, incident %d, step 1 for a page", d, t0, id)
		}
	}
	slices.Sort(got)
	slices.Sort(want)
	eq(t, "deliveries", got, want)
	if len(want) == 0 {
		t.Fatal("nothing was sent")
	}

	paged := func(user string) []string {
		t.Helper()
		ds, err := h.engine.Receiver().Paged(context.Background(), user, "")
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, d := range ds {
			out = append(out, fmt.Sprintf("%d %s %s %s", d.Incident, d.Channel, d.To, d.Status))
		}
		slices.Sort(out) // sent at the same time: in no set order
		return out
	}
	eq(t, "alice's pages", paged("alice"), []string{
		fmt.Sprintf("%d slack U0ALICE open", id), fmt.Sprintf("%d sms +819000000001 open", id)})
	if _, err := h.engine.Ack(context.Background(), id, "alice", "test"); err != nil {
		t.Fatal(err)
	}
	eq(t, "alice's pages after her ack", paged("alice"), []string{
		fmt.Sprintf("%d slack U0ALICE acked", id), fmt.Sprintf("%d sms +819000000001 acked", id)})
	h.post("resolved", "g1", map[string]string{"alertname": "DiskFull", "team": "infra"})
	eq(t, "alice's pages after the resolve", paged("alice"), nil)
}

// smsConfig is inboundConfig with Twilio's inbound side on, its pages sent
// through the harness's recording sender.
var smsConfig = withGlobal(inboundConfig, "global:\n  external_url: "+fuzzExternalURL+"\n") + `
providers:
  twilio:
    account_sid: ` + faketwilio.AccountSID + `
    auth_token: {value: ` + faketwilio.AuthToken + `}
    from: "` + twilioNumber + `"
`

// bareSMS posts an SMS from alice, signed as Twilio signs it, to the real
// Twilio inbound endpoint on e, and returns the reply text.
func bareSMS(t *testing.T, e *Engine, body, sid string) string {
	t.Helper()
	req := signedRequest(twilio.InboundSMSPath, url.Values{"From": {aliceNumber}, "To": {twilioNumber}, "Body": {body},
		"MessageSid": {sid}, "AccountSid": {faketwilio.AccountSID}})
	d := serveTwiML(t, inboundServer(e).Handler(), req)
	if len(d.Verbs) != 1 {
		t.Fatalf("want one reply message, got %v", d.names())
	}
	return d.Verbs[0].Text
}

// TestBareSMSAckReadsDeliveries: a bare "ack" finds the incident whose
// delivery says the person was paged, and not one whose timeline merely
// says so in its text: the timeline is for people.
func TestBareSMSAckReadsDeliveries(t *testing.T) {
	h := newHarness(t, smsConfig)
	ctx := context.Background()
	open := func(key string, ch *store.Change) int64 {
		t.Helper()
		inc, err := h.st.UpdateByKey(ctx, key, func(*store.Incident) (*store.Change, error) {
			ch.Incident = &store.Incident{Status: store.StatusOpen, CreatedAt: t0, Escalation: store.Escalation{Step: 0}}
			return ch, nil
		})
		if err != nil {
			t.Fatal(err)
		}
		return inc.Incident.ID
	}
	told := open("told", &store.Change{Events: []store.Event{{At: t0, Type: "notified",
		Detail: map[string]string{"to": "alice", "channel": "sms", "kind": "page", "provider_id": "SM1"}}}})
	paged := open("paged", &store.Change{Deliveries: []store.Delivery{{Kind: store.DeliveryPage, Channel: "voice",
		User: "alice", To: aliceNumber, Step: 1, ProviderID: "CA1", At: t0}}})

	if got, want := bareSMS(t, h.engine, "ack", "SMack"), fmt.Sprintf("#%d acknowledged. Escalation stopped.", paged); got != want {
		t.Errorf("bare ack answered %q, want %q", got, want)
	}
	for id, want := range map[int64]store.Status{told: store.StatusOpen, paged: store.StatusAcked} {
		inc, err := h.st.Get(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if inc.Status != want {
			t.Errorf("incident %d is %s, want %s", id, inc.Status, want)
		}
	}
	h.clock.Add(time.Minute)
	if got, want := bareSMS(t, h.engine, "ack", "SMack2"), "You have no open page. Reply with its id, e.g. 'ack 12'."; got != want {
		t.Errorf("a second bare ack answered %q, want %q", got, want)
	}
}

// TestBareSMSAckAfterUpgrade: an incident paged by a version that kept no
// delivery records is found by a bare "ack" once the store is opened by
// this one, which records its deliveries from its timeline.
func TestBareSMSAckAfterUpgrade(t *testing.T) {
	h := newHarness(t, smsConfig)
	ctx := context.Background()
	id := h.post("firing", "old", map[string]string{"alertname": "DiskFull"})[0].ID
	h.advance(0) // alice is paged by SMS and voice
	// What the version before wrote: the same incident and timeline, and no
	// delivery buckets.
	set := h.engine.Policies()
	h.st.Close()
	db, err := bolt.Open(h.path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		for _, b := range []string{"deliveries", "deliveries_paged"} {
			if err := tx.DeleteBucket([]byte(b)); err != nil {
				return err
			}
		}
		return nil
	})
	db.Close()
	if err != nil {
		t.Fatal(err)
	}

	h.open(set)
	if got, want := bareSMS(t, h.engine, "ack", "SMafter"), fmt.Sprintf("#%d acknowledged. Escalation stopped.", id); got != want {
		t.Errorf("bare ack after the upgrade answered %q, want %q", got, want)
	}
	inc, err := h.st.Get(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if inc.Status != store.StatusAcked || inc.AckedBy != "alice" {
		t.Errorf("incident after the ack is %s by %q, want acked by alice", inc.Status, inc.AckedBy)
	}
}
