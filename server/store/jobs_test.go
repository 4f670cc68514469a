package store

import "testing"

func TestTerminal(t *testing.T) {
	for _, s := range []JobState{JobQueued, JobSent, JobPrinting, JobDone, JobFailed,
		JobCancelled, JobExpired} {
		want := s == JobDone || s == JobFailed || s == JobCancelled || s == JobExpired
		if s.Terminal() != want {
			t.Errorf("%s.Terminal() = %v", s, !want)
		}
	}
}
