package store

import (
	"context"
	"errors"
	"time"
)

// DeadTimer is a timer taken out of the due set for good because its
// handler kept failing: no replica claims it again until someone retries it.
type DeadTimer struct {
	Timer           // as it was claimed last; Attempt is how many attempts it had
	Error string    `json:"error"`
	At    time.Time `json:"dead_lettered_at"`
}

// ErrTimerExists is a dead timer put back while a live timer has its id.
var ErrTimerExists = errors.New("store: a timer with this id is scheduled")

// DeadLetters is the dead-letter set: timers whose handler failed too often.
type DeadLetters interface {
	// DeadLetter moves a claimed timer out of the due set into the dead-letter
	// set, recording attempts, why and when; ErrStaleClaim if the claim was lost.
	DeadLetter(ctx context.Context, c Claim, attempts int, reason string, at time.Time) error
	// DeadTimers lists dead timers, oldest first (then by id); limit 0 is all.
	DeadTimers(ctx context.Context, limit int) ([]DeadTimer, error)
	// DeadCount is how many timers are dead.
	DeadCount(ctx context.Context) (int, error)
	// RetryDead puts a dead timer back as pending at due with Attempt 0 and
	// returns it as it was dead; ErrNotFound if no dead timer has this id,
	// ErrTimerExists if a live one does.
	RetryDead(ctx context.Context, id string, due time.Time) (DeadTimer, error)
	// DiscardDead removes a dead timer for good and returns it; ErrNotFound if none has this id.
	DiscardDead(ctx context.Context, id string) (DeadTimer, error)
}
