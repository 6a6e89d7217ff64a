package config

import "github.com/prometheus/alertmanager/timeinterval"

// User returns the user with id, or nil.
func (c *Config) User(id string) *User { return c.usersByID[id] }

// ChatChannel returns the chat channel with id, or nil.
func (c *Config) ChatChannel(id string) *ChatChannel { return c.channelsByID[id] }

// Department returns the department with id, or nil.
func (c *Config) Department(id string) *Department { return c.departmentsByID[id] }

// Rotation returns the rotation with id, or nil.
func (c *Config) Rotation(id string) *Rotation { return c.rotationsByID[id] }

// Schedule returns the schedule with id, or nil.
func (c *Config) Schedule(id string) *Schedule { return c.schedulesByID[id] }

// Policy returns the escalation policy with id, or nil.
func (c *Config) Policy(id string) *Policy { return c.policiesByID[id] }

// Route returns the route named name (the default route included), or nil.
func (c *Config) Route(name string) *Route {
	if r := c.routesByName[name]; r != nil {
		return r
	}
	if c.DefaultRoute != nil && c.DefaultRoute.Name == name {
		return c.DefaultRoute
	}
	return nil
}

// TimeInterval returns the named Alertmanager time intervals, and whether the name exists.
func (c *Config) TimeInterval(name string) ([]timeinterval.TimeInterval, bool) {
	ti, ok := c.intervals[name]
	return ti, ok
}

// RoutePolicy is the policy a route uses: its own, or its department's.
func (c *Config) RoutePolicy(r *Route) *Policy {
	if r.EscalationPolicy != "" {
		return c.Policy(r.EscalationPolicy)
	}
	if d := c.Department(r.Department); d != nil {
		return c.Policy(d.EscalationPolicy)
	}
	return nil
}
