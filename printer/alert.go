package printer

import "time"

// DefaultAlertAfter is how long a printer may stay in a state that needs staff (AlertState) before it is
// in alert, unless a portal sets its own threshold. The agent, which does not learn the portal's
// threshold, always uses it.
const DefaultAlertAfter = 5 * time.Minute

// AlertState reports whether a printer in state s, present (in its agent's list) or not, needs staff:
// out of media or ribbon, head open, paused, in error or offline. Ready, busy and unknown (a printer
// that cannot say) do not.
func AlertState(s State, present bool) bool {
	if !present {
		return true
	}
	switch s {
	case StateMediaOut, StateHeadOpen, StatePaused, StateRibbonOut, StateError, StateOffline:
		return true
	}
	return false
}

// InAlert reports whether a printer that has been in state s (present or not) since since is in alert at
// now: its state needs staff and has lasted at least after (DefaultAlertAfter when after <= 0). A zero
// since (not known) never alerts.
func InAlert(s State, present bool, since, now time.Time, after time.Duration) bool {
	if after <= 0 {
		after = DefaultAlertAfter
	}
	return AlertState(s, present) && !since.IsZero() && now.Sub(since) >= after
}

// Seen is what alerts know of a printer: its agent's last report (State, Present, since Since) and
// whether its agent is connected now (AgentOnline) or, when it is not, when the agent last connected or
// disconnected (AgentSeen).
type Seen struct {
	State       State
	Present     bool
	Since       time.Time
	AgentOnline bool
	AgentSeen   time.Time
}

// Effective returns s as alerts count it: a printer whose agent has no live session is not present,
// since its agent's disconnect (AgentSeen), or since its own Since when it already needed staff before
// the agent went (the need is continuous). A zero AgentSeen (not known) keeps the printer from alerting.
func (s Seen) Effective() Seen {
	if s.AgentOnline {
		return s
	}
	e := s
	e.Present = false
	if !(AlertState(s.State, s.Present) && !s.Since.IsZero() && !s.Since.After(s.AgentSeen)) {
		e.Since = s.AgentSeen
	}
	return e
}

// InAlert reports whether the printer is in alert at now with threshold after (InAlert of Effective).
func (s Seen) InAlert(now time.Time, after time.Duration) bool {
	e := s.Effective()
	return InAlert(e.State, e.Present, e.Since, now, after)
}
