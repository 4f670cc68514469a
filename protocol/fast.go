package protocol

import "time"

// The fast path of Decode for the messages an agent sends per job (job_status, job_statuses), which are
// most of what a busy server reads. encoding/json reads such a message three times (its type, a check of
// the whole text, then the fields, by reflection); decodeFast reads it once. It takes only a plain
// subset of JSON — the known fields, each once, ASCII strings without escapes — and hands everything else
// (other fields, escapes, null, a duplicate, an error to report) to encoding/json, so what it returns is
// exactly what the general path would (FuzzDecodeFast checks that).

// Fields decodeFast knows, as bits of a set (each may appear once).
const (
	fType = 1 << iota
	fJobID
	fState
	fReason
	fRetry
	fAt
	fStatuses
)

// decodeFast decodes data when it is a job_status or job_statuses in the plain subset; ok false says
// the general path must decode it. The message is not validated.
func decodeFast(data []byte) (m Message, ok bool) {
	p := fastParser{b: data}
	var st JobStatus
	var sts []JobStatus
	seen, ok := p.object(&st, &sts, true)
	if !ok || p.skipSpace() != len(p.b) {
		return nil, false
	}
	switch {
	case st.Type == TypeJobStatus && seen&fStatuses == 0 && seen&(fJobID|fState|fAt) == fJobID|fState|fAt:
		return st, true
	case st.Type == TypeJobStatuses && seen == fType|fStatuses && len(sts) > 0:
		return JobStatuses{Type: TypeJobStatuses, Statuses: sts}, true
	}
	return nil, false
}

type fastParser struct {
	b []byte
	i int
}

// skipSpace moves past JSON white space and returns the position.
func (p *fastParser) skipSpace() int {
	for p.i < len(p.b) {
		switch p.b[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return p.i
		}
	}
	return p.i
}

// next reports whether the next token is c, and takes it if so.
func (p *fastParser) next(c byte) bool {
	if p.skipSpace() < len(p.b) && p.b[p.i] == c {
		p.i++
		return true
	}
	return false
}

// str reads a string of printable ASCII without escapes; it returns the bytes between the quotes.
func (p *fastParser) str() ([]byte, bool) {
	if !p.next('"') {
		return nil, false
	}
	start := p.i
	for ; p.i < len(p.b); p.i++ {
		switch c := p.b[p.i]; {
		case c == '"':
			p.i++
			return p.b[start : p.i-1], true
		case c == '\\' || c < 0x20 || c > 0x7e:
			return nil, false
		}
	}
	return nil, false
}

// object reads a JSON object's fields into st (and, at the top level only, a statuses array into sts);
// it returns the set of fields seen.
func (p *fastParser) object(st *JobStatus, sts *[]JobStatus, top bool) (seen int, ok bool) {
	if !p.next('{') {
		return 0, false
	}
	if p.next('}') {
		return 0, true
	}
	for {
		key, ok := p.str()
		if !ok || !p.next(':') {
			return 0, false
		}
		f := fieldBit(string(key), top)
		if f == 0 || seen&f != 0 {
			return 0, false
		}
		seen |= f
		if !p.value(f, st, sts) {
			return 0, false
		}
		if p.next('}') {
			return seen, true
		}
		if !p.next(',') {
			return 0, false
		}
	}
}

func fieldBit(key string, top bool) int {
	switch key {
	case "type":
		return fType
	case "job_id":
		return fJobID
	case "state":
		return fState
	case "reason":
		return fReason
	case "retry":
		return fRetry
	case "at":
		return fAt
	case "statuses":
		if top {
			return fStatuses
		}
	}
	return 0
}

// value reads field f's value.
func (p *fastParser) value(f int, st *JobStatus, sts *[]JobStatus) bool {
	switch f {
	case fRetry:
		return p.boolean(&st.Retry)
	case fStatuses:
		return p.statuses(sts)
	}
	s, ok := p.str()
	if !ok {
		return false
	}
	switch f {
	case fType:
		st.Type = string(s)
	case fJobID:
		st.JobID = string(s)
	case fState:
		st.State = string(s)
	case fReason:
		st.Reason = string(s)
	case fAt:
		// The quotes are around s in the input: time.Time reads its own JSON exactly as the general path.
		var t time.Time
		if t.UnmarshalJSON(p.b[p.i-len(s)-2:p.i]) != nil {
			return false
		}
		st.At = t
	}
	return true
}

func (p *fastParser) boolean(v *bool) bool {
	p.skipSpace()
	for _, lit := range [...]string{"true", "false"} {
		if len(p.b)-p.i >= len(lit) && string(p.b[p.i:p.i+len(lit)]) == lit {
			p.i += len(lit)
			*v = lit == "true"
			return true
		}
	}
	return false
}

// statuses reads the elements of job_statuses: objects of job_status fields, at most MaxStatuses (more
// are left to the general path, which reports them).
func (p *fastParser) statuses(sts *[]JobStatus) bool {
	if !p.next('[') {
		return false
	}
	list := make([]JobStatus, 0, 2)
	for {
		var st JobStatus
		seen, ok := p.object(&st, nil, false)
		if !ok || seen&(fJobID|fState|fAt) != fJobID|fState|fAt || len(list) == MaxStatuses {
			return false
		}
		if st.Type == "" {
			st.Type = TypeJobStatus // as decodeStatuses does
		}
		list = append(list, st)
		if p.next(']') {
			*sts = list
			return true
		}
		if !p.next(',') {
			return false
		}
	}
}
