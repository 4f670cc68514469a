package main

import (
	"testing"
	"time"

	"printdock/protocol"
)

// TestLightStatuses: a light agent reports a job as a real agent does: received and printing in one
// job_statuses message then done to a server that takes job_statuses, three job_status messages to an
// older one; received at the job's arrival, every At in UTC microseconds.
func TestLightStatuses(t *testing.T) {
	at := time.Date(2026, 3, 4, 5, 6, 7, 123456789, time.Local)
	for _, tc := range []struct {
		batch bool
		want  []string // message types, and the states of their statuses
	}{
		{true, []string{"job_statuses received printing", "job_status done"}},
		{false, []string{"job_status received", "job_status printing", "job_status done"}},
	} {
		var got []string
		var sts []protocol.JobStatus
		lightStatuses(func(m protocol.Message) error {
			line := m.MessageType()
			switch m := m.(type) {
			case protocol.JobStatuses:
				for _, st := range m.Statuses {
					line += " " + st.State
					sts = append(sts, st)
				}
			case protocol.JobStatus:
				line += " " + m.State
				sts = append(sts, m)
			}
			if _, err := protocol.Encode(m); err != nil {
				t.Errorf("%s: %v", line, err)
			}
			got = append(got, line)
			return nil
		}, "job-1", at, tc.batch)
		if len(got) != len(tc.want) {
			t.Fatalf("batch %v: sent %q, want %q", tc.batch, got, tc.want)
		}
		for i := range got {
			if got[i] != tc.want[i] {
				t.Errorf("batch %v: sent %q, want %q", tc.batch, got, tc.want)
			}
		}
		if !sts[0].At.Equal(at.Truncate(time.Microsecond)) {
			t.Errorf("received At = %v, want %v", sts[0].At, at)
		}
		for _, st := range sts {
			if st.JobID != "job-1" || st.At.Location() != time.UTC || st.At.Nanosecond()%1000 != 0 {
				t.Errorf("status %+v: want job-1, At in UTC microseconds", st)
			}
		}
	}
}
