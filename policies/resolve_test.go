package policies

import (
	"slices"
	"testing"

	"github.com/hikyaku/hikyaku/config"
)

func TestResolve(t *testing.T) {
	s := ocSet(t, `chat_channels:
  - {id: war-room, slack: C0WARROOM}
time_intervals:
  - name: never-on-mondays
    time_intervals:
      - weekdays: ["tuesday:saturday", "sunday"]
        location: Asia/Tokyo
departments:
  - id: ops
    rotations:
      - {id: primary, timezone: Asia/Tokyo, start: "2026-01-05 10:00", shift: 1w, members: [alice, bob]}
      - {id: weekend, timezone: Asia/Tokyo, start: "2026-01-05 10:00", shift: 1w, members: [carol], active: [never-on-mondays]}
    schedules:
      - {id: sched, layers: [primary]}
  - id: db
    rotations:
      - {id: dba, timezone: Asia/Tokyo, start: "2026-01-05 10:00", shift: 1d, members: [dave, erin]}
`)
	jst := ocLoc(t, "Asia/Tokyo")
	monday := ocAt(t, jst, "2026-01-05 12:00") // alice primary, weekend empty, dave dba
	tests := []struct {
		name    string
		targets config.Targets
		want    Resolved
	}{
		{
			name:    "rotation, schedule and department agree: one page each",
			targets: config.Targets{Rotations: []string{"primary"}, Schedules: []string{"sched"}, Departments: []string{"ops"}},
			want:    Resolved{Users: []string{"alice"}, Empty: []string{"weekend"}},
		},
		{
			name: "target order: rotations, schedules, departments, then users",
			targets: config.Targets{
				Users:       []string{"frank", "alice"},
				Departments: []string{"db"},
				Schedules:   []string{"sched"},
				Rotations:   []string{"weekend"},
			},
			want: Resolved{Users: []string{"alice", "dave", "frank"}, Empty: []string{"weekend"}},
		},
		{
			name:    "chat channels are kept once",
			targets: config.Targets{ChatChannels: []string{"war-room", "war-room"}, Rotations: []string{"weekend"}},
			want:    Resolved{ChatChannels: []string{"war-room"}, Empty: []string{"weekend"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := s.Resolve(tt.targets, monday)
			if !slices.Equal(got.Users, tt.want.Users) || !slices.Equal(got.ChatChannels, tt.want.ChatChannels) || !slices.Equal(got.Empty, tt.want.Empty) {
				t.Errorf("Resolve = %+v, want %+v", got, tt.want)
			}
		})
	}
	// On Tuesday the weekend rotation is active: carol joins.
	got := s.Resolve(config.Targets{Departments: []string{"ops"}}, ocAt(t, jst, "2026-01-06 12:00"))
	if !slices.Equal(got.Users, []string{"alice", "carol"}) || len(got.Empty) != 0 {
		t.Errorf("Resolve(ops, Tuesday) = %+v, want alice and carol", got)
	}
}
