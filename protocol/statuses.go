package protocol

import (
	"encoding/json"
	"fmt"
)

// MaxStatuses bounds the statuses of one job_statuses message.
const MaxStatuses = 64

// JobStatuses carries several job_status messages in one frame, in the order the agent would have sent
// them one by one; the server handles each exactly as a job_status of its own. An agent sends it only to
// a server whose welcome lists FeatureJobStatuses (an older server answers an unknown type with an
// error), and only when it has more than one status ready at once (a job's received and printing when
// they were committed together): every other status still goes as a job_status.
//
// Each element is a complete job_status object ("type":"job_status" included), so a reader can hand
// them on as they are; Decode also accepts elements without a type, and sets it.
type JobStatuses struct {
	Type     string      `json:"type"`
	Statuses []JobStatus `json:"statuses"`
}

func (JobStatuses) MessageType() string { return TypeJobStatuses }

func (m JobStatuses) validate() error {
	switch {
	case len(m.Statuses) == 0:
		return fmt.Errorf("%w: statuses is required", ErrInvalid)
	case len(m.Statuses) > MaxStatuses:
		return fmt.Errorf("%w: more than %d statuses", ErrInvalid, MaxStatuses)
	}
	for i, st := range m.Statuses {
		if st.Type != TypeJobStatus {
			return fmt.Errorf("%w: statuses[%d] has type %.40q", ErrInvalid, i, st.Type)
		}
		if err := st.validate(); err != nil {
			return fmt.Errorf("statuses[%d]: %w", i, err)
		}
	}
	return nil
}

func encodeStatuses(m JobStatuses) ([]byte, error) {
	m.Type = TypeJobStatuses
	sts := make([]JobStatus, len(m.Statuses))
	for i, st := range m.Statuses {
		st.Type = TypeJobStatus
		sts[i] = st
	}
	m.Statuses = sts
	return json.Marshal(m)
}

// decodeStatuses decodes a job_statuses message; elements without a type get job_status's (Decode's
// validate then refuses any other type).
func decodeStatuses(data []byte) (Message, error) {
	m, err := decodeAs[JobStatuses](data)
	if err != nil {
		return nil, err
	}
	v := m.(JobStatuses)
	for i := range v.Statuses {
		if v.Statuses[i].Type == "" {
			v.Statuses[i].Type = TypeJobStatus
		}
	}
	return v, nil
}
