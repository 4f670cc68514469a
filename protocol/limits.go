package protocol

import (
	"fmt"

	"printdock/internal/clip"
)

// Limits on the text fields of the messages an agent sends (and of a job's title), in bytes. The server
// keeps hello's fields and the printer list in memory for as long as a session lives, so none may be as
// large as a whole message. Decode refuses a message with a longer field (ErrInvalid); a sender clips
// free text with Clip first.
const (
	MaxIDLen           = 256  // installation_id, client_id, job_id, printer_id, a printer's id
	MaxHostnameLen     = 255  // hello's hostname (a DNS name's limit)
	MaxAgentVersionLen = 64   // hello's agent_version
	MaxOSLen           = 64   // hello's os
	MaxFeatures        = 32   // hello's features
	MaxFeatureLen      = 32   // one feature name
	MaxPrinters        = 1024 // printers in one printers message
	MaxPrinterTextLen  = 256  // a printer's name, make, model and status
	MaxReasonLen       = 1024 // a printer's reason and job_status's reason
	MaxTitleLen        = 256  // a job's title
	MaxErrorCodeLen    = 64   // an error's code
	MaxErrorMessageLen = 1024 // an error's message
)

// Clip returns s cut to at most n bytes, at a UTF-8 character boundary, so free text (a printer's
// reason, a failure's reason) fits its limit above instead of getting the whole message refused.
func Clip(s string, n int) string { return clip.String(s, n) }

func checkID(field, v string) error {
	if v == "" {
		return fmt.Errorf("%w: %s is required", ErrInvalid, field)
	}
	return checkLen(field, v, MaxIDLen)
}

// firstErr returns the first non-nil error.
func firstErr(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

func checkLen(field, v string, limit int) error {
	if len(v) > limit {
		return fmt.Errorf("%w: %s longer than %d bytes", ErrInvalid, field, limit)
	}
	return nil
}

func checkFeatures(fs []string) error {
	if len(fs) > MaxFeatures {
		return fmt.Errorf("%w: more than %d features", ErrInvalid, MaxFeatures)
	}
	for _, f := range fs {
		if err := checkLen("feature", f, MaxFeatureLen); err != nil {
			return err
		}
	}
	return nil
}
