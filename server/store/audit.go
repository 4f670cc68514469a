package store

import (
	"context"
	"time"
)

// AuditEntry is one audit record. It never holds a secret.
type AuditEntry struct {
	ID         int64
	PortalID   string
	At         time.Time
	Actor      string
	Action     string
	Target     string
	RemoteAddr string
	Detail     string
}

// AuditFilter selects audit entries of one portal ("" selects entries with no portal), newest first.
type AuditFilter struct {
	PortalID      string
	Actor, Action string
	Since, Until  time.Time // zero: unbounded; Since inclusive, Until exclusive
	Limit         int       // <= 0: implementation default (100)
	After         Key       // continue after the entry with key SeqKey(at, id)
}

// AuditStore persists the audit log.
type AuditStore interface {
	AppendAudit(ctx context.Context, e AuditEntry) (int64, error)
	ListAudit(ctx context.Context, f AuditFilter) ([]AuditEntry, error)
}
