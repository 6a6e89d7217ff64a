package config

import (
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/prometheus/common/model"

	"github.com/hikyaku/hikyaku/internal/wallclock"
)

// Duration is a time.Duration written as Prometheus writes them: 30s, 5m, 1h30m, 2d, 1w.
type Duration time.Duration

// UnmarshalYAML accepts Prometheus duration strings.
func (d *Duration) UnmarshalYAML(unmarshal func(any) error) error {
	var s string
	if err := unmarshal(&s); err != nil {
		return err
	}
	v, err := model.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("invalid duration %q: use a number and a unit, e.g. 30s, 5m, 1h30m, 2d, 1w", s)
	}
	*d = Duration(v)
	return nil
}

// MarshalText writes the duration back in the same form.
func (d Duration) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// String formats like Prometheus (1w, 2d, 1h30m).
func (d Duration) String() string { return model.Duration(d).String() }

// D is the time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

// Timestamp is a point in time: RFC 3339 with an offset ("2026-12-24T18:00:00+09:00"),
// or wall-clock "2026-12-24 18:00" in the time zone of what holds it.
type Timestamp string

var wallClockLayouts = []string{"2006-01-02 15:04", "2006-01-02T15:04", "2006-01-02 15:04:05", "2006-01-02T15:04:05", "2006-01-02"}

// In parses the timestamp, reading wall-clock forms in loc. A wall-clock
// time that loc's clock skips or shows twice is placed by wallclock.Resolve
// (the first instant the clock shows it or later), not by time.ParseInLocation,
// whose choice depends on which side of UTC loc is.
func (t Timestamp) In(loc *time.Location) (time.Time, error) {
	s := strings.TrimSpace(string(t))
	if v, err := time.Parse(time.RFC3339, s); err == nil {
		return v, nil
	}
	if w, ok := t.Wall(); ok {
		return wallclock.Resolve(w, loc), nil
	}
	return time.Time{}, fmt.Errorf("invalid time %q: want 2026-12-24T18:00:00+09:00 or 2026-12-24 18:00 (local to %s)", s, loc)
}

// Wall is the reading of a timestamp written as a wall-clock time (its
// fields, in UTC), and false for RFC 3339 or anything unparsable. A rotation
// lays out its handoffs from this reading rather than from its instant's:
// "2026-09-06 00:00" in America/Santiago happens at 01:00 (that midnight is
// skipped), yet the handoffs stay at midnight.
func (t Timestamp) Wall() (time.Time, bool) {
	s := strings.TrimSpace(string(t))
	for _, layout := range wallClockLayouts {
		if v, err := time.Parse(layout, s); err == nil {
			return v, true
		}
	}
	return time.Time{}, false
}

// Secret is a credential read from a file or an environment variable, or
// (discouraged) written inline. Its String never shows the value, so a secret
// logged by mistake reads "<secret>".
type Secret struct {
	File  string `yaml:"file"`
	Env   string `yaml:"env"`
	Value string `yaml:"value"`
	value string
	set   bool
}

// IsZero tells whether the secret was configured at all.
func (s Secret) IsZero() bool { return s.File == "" && s.Env == "" && s.Value == "" }

// Reveal returns the secret's value and whether it was found.
func (s Secret) Reveal() (string, bool) { return s.value, s.set }

// String hides the value.
func (s Secret) String() string {
	if s.set {
		return "<secret>"
	}
	return "<unset>"
}

// MarshalText hides the value in any dump of the config.
func (s Secret) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// GoString hides the value from %#v, which would otherwise print the
// struct's fields, the inline Value and the resolved value among them.
func (s Secret) GoString() string { return s.String() }

// Format hides the value whatever the verb: fmt uses String only for
// %v, %s, %q and %x, and prints the raw fields for the others (%d, %t…).
func (s Secret) Format(f fmt.State, verb rune) {
	if verb == 'q' {
		fmt.Fprintf(f, "%q", s.String())
		return
	}
	fmt.Fprint(f, s.String())
}

// NewSecret makes a resolved secret (tests, flags).
func NewSecret(v string) Secret { return Secret{value: v, set: v != ""} }

// resolve reads the secret from where it is kept. A missing environment
// variable or file is returned as an error so Load can warn with a position.
func (s *Secret) resolve() error {
	switch {
	case s.Value != "":
		s.value, s.set = s.Value, true
	case s.File != "":
		b, err := os.ReadFile(s.File)
		if err != nil {
			return fmt.Errorf("secret file: %w", err)
		}
		s.value = strings.TrimRight(string(b), "\r\n")
		s.set = s.value != ""
		if !s.set {
			return fmt.Errorf("secret file %s is empty", s.File)
		}
	case s.Env != "":
		v, ok := os.LookupEnv(s.Env)
		if !ok || v == "" {
			return fmt.Errorf("environment variable %s is not set", s.Env)
		}
		s.value, s.set = v, true
	}
	return nil
}
