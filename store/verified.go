package store

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Verifications are when each person's contact methods last proved that
// they reach the person: a test page on one (a drill's or a manual one)
// was acknowledged. hikyaku_contacts_unverified counts the methods with
// none recent enough (docs/drills.md).
type Verifications interface {
	// SetVerified records that user's contact method on channel was
	// verified at at. A time no later than the one stored changes nothing,
	// so replicas recording out of order keep the latest.
	SetVerified(ctx context.Context, user, channel string, at time.Time) error
	// Verified is every verification recorded, the latest per user and channel.
	Verified(ctx context.Context) ([]Verification, error)
}

// Verification is the last time a contact method was verified.
type Verification struct {
	User    string    `json:"user"`
	Channel string    `json:"channel"`
	At      time.Time `json:"at"`
}

// verifiedField is one verification's field (Redis) or key (bbolt): user
// ids and channel names have no NUL.
func verifiedField(user, channel string) string { return user + "\x00" + channel }

func checkVerified(user, channel string) error {
	if user == "" || channel == "" {
		return fmt.Errorf("store: verified: empty user or channel (%q, %q)", user, channel)
	}
	return nil
}

// verifiedStamp orders as text as the instants do (nanoseconds, zero-padded),
// so Redis's script compares them without floating point.
func verifiedStamp(t time.Time) string { return fmt.Sprintf("%020d", max(t.UnixNano(), 0)) }

func parseVerified(field, stamp string) (Verification, error) {
	user, channel, ok := strings.Cut(field, "\x00")
	ns, err := strconv.ParseInt(stamp, 10, 64)
	if !ok || err != nil {
		return Verification{}, fmt.Errorf("bad verification %q = %q", field, stamp)
	}
	return Verification{User: user, Channel: channel, At: time.Unix(0, ns).UTC()}, nil
}
