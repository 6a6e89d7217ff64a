package policies

import "testing"

// followTheSun: a US daytime layer over a Tokyo weekly layer.
const followTheSun = `time_intervals:
  - name: us-daytime
    time_intervals:
      - weekdays: ["monday:friday"]
        times: [{start_time: "09:00", end_time: "17:00"}]
        location: America/New_York
departments:
  - id: ops
    rotations:
      - {id: us, timezone: America/New_York, start: "2026-01-05 09:00", shift: 1d, members: [erin], active: [us-daytime]}
      - {id: tokyo, timezone: Asia/Tokyo, start: "2026-01-05 10:00", shift: 1w, members: [alice, bob]}
    schedules:
      - id: sun
        layers: [us, tokyo]
`

func TestScheduleFollowTheSun(t *testing.T) {
	jst := ocLoc(t, "Asia/Tokyo")
	tests := []struct {
		name      string
		overrides string
		from, to  string
		want      []ocWant
		layers    []string
	}{
		{
			name: "the US layer wins in New York's daytime, Tokyo shows through",
			from: "2026-01-06 00:00", to: "2026-01-07 12:00",
			want: []ocWant{
				{user: "erin", start: "2026-01-06 00:00", end: "2026-01-06 07:00"},
				{user: "alice", start: "2026-01-06 07:00", end: "2026-01-06 23:00"},
				{user: "erin", start: "2026-01-06 23:00", end: "2026-01-07 07:00"},
				{user: "alice", start: "2026-01-07 07:00", end: "2026-01-07 12:00"},
			},
			layers: []string{"us", "tokyo", "us", "tokyo"},
		},
		{
			name: "the Tokyo handoff on Monday 10:00 shows where the US layer is quiet",
			from: "2026-01-12 08:00", to: "2026-01-12 12:00",
			want: []ocWant{
				{user: "alice", start: "2026-01-12 08:00", end: "2026-01-12 10:00"},
				{user: "bob", start: "2026-01-12 10:00", end: "2026-01-12 12:00"},
			},
			layers: []string{"tokyo", "tokyo"},
		},
		{
			// A schedule has no zone of its own: wall-clock overrides would be read in global.timezone.
			name:      "schedule overrides beat every layer",
			overrides: "        overrides:\n          - {user: frank, start: \"2026-01-06T06:00:00+09:00\", end: \"2026-01-06T08:00:00+09:00\"}\n",
			from:      "2026-01-06 05:00", to: "2026-01-06 09:00",
			want: []ocWant{
				{user: "erin", start: "2026-01-06 05:00", end: "2026-01-06 06:00"},
				{user: "frank", start: "2026-01-06 06:00", end: "2026-01-06 08:00", override: true},
				{user: "alice", start: "2026-01-06 08:00", end: "2026-01-06 09:00"},
			},
			layers: []string{"us", "sun", "tokyo"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := ocSet(t, followTheSun+tt.overrides)
			got, err := s.Shifts("sun", ocAt(t, jst, tt.from), ocAt(t, jst, tt.to))
			if err != nil {
				t.Fatal(err)
			}
			ocCheck(t, jst, got, tt.want)
			for i := range got {
				if i < len(tt.layers) && got[i].Rotation != tt.layers[i] {
					t.Errorf("shift %d comes from %q, want %q", i, got[i].Rotation, tt.layers[i])
				}
			}
		})
	}
	s := ocSet(t, followTheSun)
	sh, ok := s.OnCall("sun", ocAt(t, jst, "2026-01-06 12:00"))
	if !ok || sh.User != "alice" || sh.Rotation != "tokyo" || !sh.Start.Equal(ocAt(t, jst, "2026-01-06 07:00")) || !sh.End.Equal(ocAt(t, jst, "2026-01-06 23:00")) {
		t.Errorf("OnCall(sun, Tue 12:00 JST) = %s, %v; want alice (tokyo) 07:00–23:00", ocFmt(sh, jst), ok)
	}
}
