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
