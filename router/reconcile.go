package router

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"syscall"
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

// placedKey names, in the replay record, a provider's message that a
// callback named the page of: it is some page's, and so not the one a
// takeover is looking for unless that page's own "took:" mark says so.
func placedKey(channel, providerID string) string { return "placed:" + channel + ":" + providerID }

// DeliveryAccepted marks the message whose callback token a provider's
// callback carries as taken by it (Twilio's call progress, an SMS reported
// queued, sent or failed). A replica that takes the message over after its
// sender vanished then knows it went out, on channels no list API can tell
// it of (a call's record names nothing of the page). On a channel whose
// provider lists what it took (channels.PlacedLister) the provider's ID is
// marked too, after the message: reconcilePlaced reads them in the other
// order. A call reports several times; the first callback writes the marks,
// the others only read them.
func (e *Engine) DeliveryAccepted(ctx context.Context, token, providerID string) error {
	cb, err := readCallback(token)
	if err != nil {
		return err
	}
	if cb.Sent == "" {
		return nil // a token handed out before marks were kept
	}
	keys := []string{"took:" + cb.Sent}
	if _, ok := (*e.senders.Load())[cb.Payload.Channel].(channels.PlacedLister); ok && providerID != "" {
		keys = append(keys, placedKey(cb.Payload.Channel, providerID))
	}
	for _, k := range keys {
		if had, err := e.opts.Store.WasSeen(ctx, k); err == nil && had {
			continue
		}
		if _, err := e.opts.Store.Seen(ctx, k, tookKeep); err != nil {
			return fmt.Errorf("router: marking %s taken by its provider: %w", providerID, err)
		}
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

// unanswered says whether a send that failed may have reached its
// provider all the same: the request went out and no answer came back in
// time, or the connection was cut before it did. A provider queues what it
// was handed whether or not the client waits for its answer, so a
// busy provider, or a replica too starved to read the answer before its
// deadline, sends the message and reports a timeout. A connection never
// made (a refused or timed-out dial) and a refusal the provider answered
// are no such case: nothing went out.
func unanswered(err error) bool {
	var op *net.OpError
	switch {
	case err == nil, channels.IsPermanent(err):
		return false
	case errors.As(err, &op) && op.Op == "dial":
		return false
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return true
	}
	return channels.ReasonOf(err) == channels.ReasonTimeout
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
	sender := (*e.senders.Load())[m.Channel]
	if pl, ok := sender.(channels.PlacedLister); ok {
		return e.reconcilePlaced(ctx, pl, m, since, attempt)
	}
	r, ok := sender.(channels.Reconciler)
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

// reconcilePlaced asks a provider that lists what it took for m.To but
// not what each one was (Twilio's calls). Each listed message that a
// callback named is another page's, or m's own, which its "took:" mark,
// read after them, says. What is left, unnamed, decides:
//   - nothing: m was not placed, and is sent (not_found);
//   - a message still in progress: its next callback (a call rings
//     seconds after Twilio dials it) will name its page, so m is asked
//     again after a backoff, as a failed attempt;
//   - only ended ones (their callbacks were all lost), or a list cut
//     short, or attempts spent waiting: m is sent again, marked.
//
// Never is another page's message taken for m's: a page recorded as sent
// that was not would be lost, worse than one sent twice.
func (e *Engine) reconcilePlaced(ctx context.Context, pl channels.PlacedLister, m *channels.Message, since time.Time, attempt int) (channels.Receipt, string, error) {
	lctx, cancel := context.WithTimeout(ctx, e.opts.Lease*4/5)
	defer cancel()
	placed, all, err := pl.Placed(lctx, m, since)
	var open, ended int
	if err == nil {
		for _, p := range placed {
			var named bool
			if named, err = e.opts.Store.WasSeen(ctx, placedKey(m.Channel, p.ProviderID)); err != nil {
				break
			}
			switch {
			case named:
			case p.Ended:
				ended++
			default:
				open++
			}
		}
	}
	if err == nil {
		// Its own callback may have come since the first look: it marks
		// the page before the call, so a call read as named is m's only if
		// this sees m's mark.
		var took bool
		switch took, err = e.providerTook(ctx, m); {
		case err != nil:
		case took:
			return e.reconciled(m, channels.Receipt{}, true)
		case all && open+ended == 0:
			return e.reconciled(m, channels.Receipt{}, false)
		case open > 0 && attempt+1 < e.opts.MaxAttempts:
			return channels.Receipt{}, "", fmt.Errorf("reconcile %s to %s (ref %s): %d placed since %s still in progress, no callback has named its page yet",
				m.Channel, m.To, m.Ref, open, since.UTC().Format(time.RFC3339))
		default:
			e.log.Warn("a message whose sender vanished mid-send is sent again; the provider has what it may have been, but no callback said whose, so it may be a duplicate",
				"incident", m.IncidentID, "channel", m.Channel, "to", m.To, "ref", m.Ref, "unnamed_in_progress", open, "unnamed_ended", ended, "list_complete", all)
			e.metrics.reconciled.WithLabelValues(m.Channel, reconcileUnknown).Inc()
			return channels.Receipt{}, reconcileUnknown, nil
		}
	}
	err = fmt.Errorf("reconcile %s to %s (ref %s): %w", m.Channel, m.To, m.Ref, err)
	if attempt+1 < e.opts.MaxAttempts {
		return channels.Receipt{}, "", err
	}
	e.log.Error("asking the provider whether a message went out failed on every attempt; sending it again, it may be a duplicate",
		"incident", m.IncidentID, "channel", m.Channel, "to", m.To, "ref", m.Ref, "attempts", attempt+1, "err", err)
	e.metrics.reconciled.WithLabelValues(m.Channel, reconcileUnknown).Inc()
	return channels.Receipt{}, reconcileUnknown, nil
}

// reconcileSince is the earliest a vanished holder can have sent c's
// message: when its step paged the person, or, for what no step paged,
// when it came due. Not c.Due alone: a taken-over page asked again after a
// backoff is due later than the call its holder may have placed.
func reconcileSince(c store.Claim, p *notifyPayload) time.Time {
	if !p.Paged.IsZero() && p.Paged.Before(c.Due) {
		return p.Paged
	}
	return c.Due
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
