package store

import (
	"context"
	"time"
)

// Portal is a tenant.
type Portal struct {
	ID        string
	Name      string
	CreatedAt time.Time
}

// User is a portal member. Email is unique across the whole store (password sign-in has no portal).
type User struct {
	ID           string
	PortalID     string
	Email        string
	Role         string
	PasswordHash string // argon2id encoded string
	CreatedAt    time.Time
}

// PortalStore persists portals.
type PortalStore interface {
	CountPortals(ctx context.Context) (int, error)
	CreatePortal(ctx context.Context, p Portal) error
	GetPortal(ctx context.Context, id string) (Portal, error)
}

// UserStore persists portal members.
type UserStore interface {
	CreateUser(ctx context.Context, u User) error // ErrConflict on a duplicate e-mail
	GetUser(ctx context.Context, id string) (User, error)
	GetUserByEmail(ctx context.Context, email string) (User, error)
	ListUsers(ctx context.Context, portalID string, p Page) ([]User, error) // by e-mail, then ID (NameKey)
	CountAdmins(ctx context.Context, portalID string) (int, error)
	SetUserRole(ctx context.Context, id, role string) error
	SetUserPassword(ctx context.Context, id, passwordHash string) error
	DeleteUser(ctx context.Context, id string) error // also deletes the user's API key
}
