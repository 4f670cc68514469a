package jobs

import (
	"crypto/rand"
	"encoding/base32"
	"encoding/binary"
	"fmt"
	"time"
)

// jobIDEncoding is idEncoding's alphabet in ASCII order: the same 32 characters, so a job ID looks as it
// always did, but strings sort as the bytes they encode.
var jobIDEncoding = base32.NewEncoding("234567abcdefghijklmnopqrstuvwxyz").WithPadding(base32.NoPadding)

// newJobID returns "job_" + 26 characters: the 48-bit creation time in milliseconds, then 80 random bits.
// IDs of jobs submitted later sort later, so each new job's entries land at the end of the indexes keyed
// by job ID (jobs, job_content, job_events): a group of submissions dirties the same few pages instead of
// one page of each index per job, which is most of what a commit and a checkpoint write. 80 random bits
// still make an ID unguessable, and the time it shows is the job's created_at, which the API returns.
func newJobID(at time.Time) string {
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], uint64(at.UnixMilli())<<16)
	if _, err := rand.Read(b[6:]); err != nil {
		panic(fmt.Sprintf("jobs: crypto/rand failed: %v", err)) // does not fail on supported platforms
	}
	return "job_" + jobIDEncoding.EncodeToString(b[:])
}
