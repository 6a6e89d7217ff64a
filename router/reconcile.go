package router

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"time"

	"github.com/hikyaku/hikyaku/channels"
	"github.com/hikyaku/hikyaku/store"
)

// The results of hikyaku_notifications_reconciled_total, also the value of
// the "reconciled" detail on the notified event of a taken-over message.
const (
	reconcileFound    = "found"     // the provider had it: not sent again
	reconcileNotFound = "not_found" // the provider said it did not go out: sent
	reconcileUnknown  = "unknown"   // the channel cannot be asked: sent again, may be a duplicate
)

// msgRef names an outbox entry (a timer, or a bundle's key) in a few
// characters the provider keeps with the message: the same on every
// attempt and replica, so a takeover can look for it.
func msgRef(key string) string {
	h := sha256.Sum256([]byte(key))
	return hex.EncodeToString(h[:4])
}

// sentKey names an outbox entry in the replay record's "took:" keys: the
// whole key's hash, never the short ref, so two messages can never share a
// mark and one never passes for sent because of another.
func sentKey(key string) string {
	h := sha256.Sum256([]byte(key))
	return hex.EncodeToString(h[:16])
}

// tookKeep is how long a provider's word that it took a message is kept:
// far longer than any claim stays open.
const tookKeep = 24 * time.Hour

// DeliveryAccepted marks the message whose callback token a provider's
// callback carries as taken by it (Twilio's "initiated" call progress, an
// SMS reported queued or sent). A replica that takes the message over
// after its sender vanished then knows it went out, on channels no list
// API can tell it of (a call's record names nothing of the page).
func (e *Engine) DeliveryAccepted(ctx context.Context, token, providerID string) error {
	cb, err := readCallback(token)
	if err != nil {
		return err
	}
	if cb.Sent == "" {
		return nil // a token handed out before marks were kept
	}
	if _, err := e.opts.Store.Seen(ctx, "took:"+cb.Sent, tookKeep); err != nil {
		return fmt.Errorf("router: marking %s taken by its provider: %w", providerID, err)
	}
	return nil
}

// providerTook says whether a provider's callback marked m taken.
func (e *Engine) providerTook(ctx context.Context, m *channels.Message) (bool, error) {
	took, err := e.opts.Store.WasSeen(ctx, "took:"+sentKey(m.IdempotencyKey))
	if err != nil {
		return false, fmt.Errorf("reading whether the provider took %s: %w", m.Ref, err)
	}
	return took, nil
}

// takenOver says whether any of claims was taken from a holder that
// vanished (lease expired, daemon killed) and may have sent it.
func takenOver(claims ...store.Claim) bool {
	for _, c := range claims {
		if c.TakenOver {
			return true
		}
	}
	return false
}

// reconcile runs before a taken-over message is sent again: the holder
// that vanished may have had it accepted by the provider before it could
// record that. A provider's callback may have said so already (the mark
// DeliveryAccepted keeps): then it is not sent again. A channel that can be asked (channels.Reconciler) is asked
// whether m went out since it came due; found, the engine records it
// instead of sending. A channel that cannot be asked is sent again, once
// per attempt, and the notified event and metric say it may be a
// duplicate. A failed lookup is this attempt's failure, retried with
// backoff: sending blindly would bring back the duplicate this is here to
// prevent. Once the attempts a send would have (MaxAttempts) are spent on
// lookups, the message is sent as one that cannot be asked: a duplicate is
// better than a page that never goes out.
func (e *Engine) reconcile(ctx context.Context, m *channels.Message, since time.Time, attempt int) (rc channels.Receipt, result string, err error) {
	took, err := e.providerTook(ctx, m)
	switch {
	case err != nil && attempt+1 < e.opts.MaxAttempts:
		return channels.Receipt{}, "", err // the store will answer the next attempt
	case took:
		return e.reconciled(m, channels.Receipt{}, true)
	}
	r, ok := (*e.senders.Load())[m.Channel].(channels.Reconciler)
	if ok {
		lctx, cancel := context.WithTimeout(ctx, e.opts.Lease*4/5)
		defer cancel()
		var found bool
		if rc, found, err = r.Lookup(lctx, m, since); err == nil {
			return e.reconciled(m, rc, found)
		}
		err = fmt.Errorf("reconcile %s to %s (ref %s): %w", m.Channel, m.To, m.Ref, err)
		if attempt+1 < e.opts.MaxAttempts {
			return channels.Receipt{}, "", err
		}
		e.log.Error("asking the provider whether a message went out failed on every attempt; sending it again, it may be a duplicate",
			"incident", m.IncidentID, "channel", m.Channel, "to", m.To, "ref", m.Ref, "attempts", attempt+1, "err", err)
	}
	if !ok {
		e.log.Warn("a message whose sender vanished mid-send is sent again; its channel cannot be asked whether it went out, so it may be a duplicate",
			"incident", m.IncidentID, "channel", m.Channel, "to", m.To, "ref", m.Ref)
	}
	e.metrics.reconciled.WithLabelValues(m.Channel, reconcileUnknown).Inc()
	return channels.Receipt{}, reconcileUnknown, nil
}

// reconciled counts and logs the provider's answer.
func (e *Engine) reconciled(m *channels.Message, rc channels.Receipt, found bool) (channels.Receipt, string, error) {
	if found {
		e.metrics.reconciled.WithLabelValues(m.Channel, reconcileFound).Inc()
		e.log.Info("a message whose sender vanished mid-send had gone out; not sending it again",
			"incident", m.IncidentID, "channel", m.Channel, "ref", m.Ref, "provider_id", rc.ProviderID)
		return rc, reconcileFound, nil
	}
	e.metrics.reconciled.WithLabelValues(m.Channel, reconcileNotFound).Inc()
	return channels.Receipt{}, reconcileNotFound, nil
}

// reconciledDetail is what the notified event says of a reconciled message.
func reconciledDetail(result string) []string {
	switch result {
	case "":
		return nil
	case reconcileUnknown:
		return []string{"reconciled", result, "possible_duplicate", "true"}
	}
	return []string{"reconciled", result}
}
