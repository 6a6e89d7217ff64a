package wallclock

import (
	"archive/zip"
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"
)

// The oracle reads the clock only in the direction that has one answer: an
// instant's wall clock, t.In(loc). It scans UTC minute by minute and takes,
// for each wall time, the first minute whose clock shows it or later: the
// rule Resolve promises, found without any offset arithmetic.

// clockAt is loc's clock at instant u, as a UTC time with the same reading.
func clockAt(u time.Time, loc *time.Location) time.Time {
	_, off := u.In(loc).Zone()
	return u.Add(time.Duration(off) * time.Second)
}

// oracle returns, for each minute m from wall time from up to (not
// including) to, the first UTC minute at which loc's clock shows from+m or
// later. It scans from 16h before from read as UTC (no zone is 16h ahead, so
// the clock there is still earlier) until the clock has passed to.
func oracle(from, to time.Time, loc *time.Location) []time.Time {
	out := make([]time.Time, 0, int(to.Sub(from)/time.Minute))
	next := from // the next wall time waiting for its first instant
	for u := from.Add(-16 * time.Hour); next.Before(to); u = u.Add(time.Minute) {
		w := clockAt(u, loc)
		for next.Before(to) && !w.Before(next) {
			out = append(out, u)
			next = next.Add(time.Minute)
		}
		if u.After(to.Add(16 * time.Hour)) {
			panic("oracle: the clock never reached " + next.String() + " in " + loc.String())
		}
	}
	return out
}

// zoneNames lists the time zone database Go loads from: the system's
// /usr/share/zoneinfo, else Go's own zoneinfo.zip. With distinct, names
// whose data is the same as an earlier one's (links) are left out.
func zoneNames(t testing.TB, distinct bool) []string {
	t.Helper()
	seen := map[string]bool{}
	var names []string
	add := func(name string, data []byte) {
		if !bytes.HasPrefix(data, []byte("TZif")) || distinct && seen[string(data)] {
			return
		}
		if _, err := time.LoadLocation(name); err != nil {
			return // a file the system keeps but Go cannot name (posixrules…)
		}
		seen[string(data)] = true
		names = append(names, name)
	}
	const dir = "/usr/share/zoneinfo"
	if _, err := os.Stat(dir); err == nil {
		err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			rel, _ := filepath.Rel(dir, p)
			if d.IsDir() {
				if rel == "posix" || rel == "right" {
					return filepath.SkipDir
				}
				return nil
			}
			if strings.Contains(rel, ".") || rel == "localtime" {
				return nil // tzdata.zi, zone.tab, leap-seconds.list…
			}
			data, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			add(rel, data)
			return nil
		})
		if err != nil {
			t.Fatalf("reading %s: %v", dir, err)
		}
	} else {
		z, err := zip.OpenReader(filepath.Join(runtime.GOROOT(), "lib", "time", "zoneinfo.zip"))
		if err != nil {
			t.Fatalf("no time zone database: %s is missing and so is Go's zoneinfo.zip: %v", dir, err)
		}
		defer z.Close()
		for _, f := range z.File {
			r, err := f.Open()
			if err != nil {
				t.Fatal(err)
			}
			var b bytes.Buffer
			_, err = b.ReadFrom(r)
			r.Close()
			if err != nil {
				t.Fatal(err)
			}
			add(f.Name, b.Bytes())
		}
	}
	slices.Sort(names)
	if len(names) < 300 {
		t.Fatalf("found only %d zones: not the whole database", len(names))
	}
	return names
}

// TestResolveAgreesWithOracle checks every zone for every day of 2026. Days
// near a change of UTC offset (found by hourly readings of the clock) are
// checked minute by minute against the oracle; on other days the clock runs
// at one offset, so two readings per day suffice.
func TestResolveAgreesWithOracle(t *testing.T) {
	names := zoneNames(t, true)
	first := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	origin, last := first.Add(-48*time.Hour), first.AddDate(1, 0, 2)
	offsets := make([]time.Duration, 0, int(last.Sub(origin)/time.Hour))
	var full, quick int
	for _, name := range names {
		loc, _ := time.LoadLocation(name)
		// offsets[i]: the clock's lead over UTC at hour i from origin.
		offsets = offsets[:0]
		for u := origin; u.Before(last); u = u.Add(time.Hour) {
			offsets = append(offsets, clockAt(u, loc).Sub(u))
		}
		// steady: one offset at every instant whose clock can show day
		// (within 16h of it), so day+m is at day+m-offset.
		steady := func(day time.Time) (time.Duration, bool) {
			lo := int(day.Add(-17*time.Hour).Sub(origin) / time.Hour)
			hi := int(day.Add(41*time.Hour).Sub(origin) / time.Hour)
			for i := lo; i < hi; i++ {
				if offsets[i] != offsets[lo] {
					return 0, false
				}
			}
			return offsets[lo], true
		}
		for day := first; day.Year() == 2026; {
			if off, ok := steady(day); ok {
				quick++
				// Two readings a day, wandering over the clock face from day to day.
				for _, m := range []int{day.YearDay() * 37 % 1440, 1439 - day.YearDay()*53%1440} {
					wall := day.Add(time.Duration(m) * time.Minute)
					if got, want := Resolve(wall, loc), wall.Add(-off); !got.Equal(want) {
						t.Fatalf("%s %s: Resolve = %s, want %s (steady offset %s)", name, wall.Format("2006-01-02 15:04"), got.UTC().Format(time.RFC3339), want.Format(time.RFC3339), off)
					}
				}
				day = day.AddDate(0, 0, 1)
				continue
			}
			// A run of unsteady days goes to the oracle in one scan.
			end := day.AddDate(0, 0, 1)
			for ; end.Year() == 2026; end = end.AddDate(0, 0, 1) {
				if _, ok := steady(end); ok {
					break
				}
			}
			for m, want := range oracle(day, end, loc) {
				wall := day.Add(time.Duration(m) * time.Minute)
				if got := Resolve(wall, loc); !got.Equal(want) {
					t.Fatalf("%s %s: Resolve = %s (%s), oracle %s (%s)", name, wall.Format("2006-01-02 15:04"),
						got.UTC().Format(time.RFC3339), got.Format("15:04 -0700"), want.UTC().Format(time.RFC3339), want.In(loc).Format("15:04 -0700"))
				}
			}
			full += int(end.Sub(day) / oneDay)
			day = end
		}
	}
	if full < 500 {
		t.Fatalf("only %d zone-days near an offset change: the zone list or the detection is wrong", full)
	}
	t.Logf("%d zones; %d days checked minute by minute, %d days at one offset", len(names), full, quick)
}

const oneDay = 24 * time.Hour

// FuzzResolve: any zone of the database, any minute from 1973 to 2100 (past
// the last explicit transitions, where Go extends the zone's rule), agrees
// with the oracle. Not earlier: Africa/Monrovia kept an offset of -0:44:30
// until 1972, which a minute-by-minute oracle cannot place (Resolve can).
func FuzzResolve(f *testing.F) {
	names := zoneNames(f, false)
	index := func(name string) uint16 {
		i := slices.Index(names, name)
		if i < 0 {
			f.Fatalf("zone %s missing from the database", name)
		}
		return uint16(i)
	}
	f.Add(uint16(0), int32(0))
	f.Add(index("Europe/London"), int32(28_303_290))       // 2026-10-25 01:30, repeated
	f.Add(index("Australia/Lord_Howe"), int32(28_273_095)) // 2026-10-04 02:15, skipped
	f.Add(index("America/Santiago"), int32(28_232_640))    // 2026-09-06 00:00, skipped
	f.Add(index("Pacific/Apia"), int32(20_509_200))        // 2011-12-30 12:00: Samoa skipped the whole day
	f.Fuzz(func(t *testing.T, zone uint16, minute int32) {
		name := names[int(zone)%len(names)]
		loc, err := time.LoadLocation(name)
		if err != nil {
			t.Fatal(err)
		}
		m := int64(minute) % (127 * 365 * 24 * 60)
		if m < 0 {
			m = -m
		}
		wall := time.Date(1973, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(m) * time.Minute)
		want := oracle(wall, wall.Add(time.Minute), loc)[0]
		if got := Resolve(wall, loc); !got.Equal(want) {
			t.Fatalf("%s %s: Resolve = %s, oracle %s", name, wall.Format("2006-01-02 15:04"), got.UTC().Format(time.RFC3339), want.UTC().Format(time.RFC3339))
		}
	})
}
