package postgres

import (
	"context"

	"printdock/server/store"
	"printdock/server/store/internal/sqlq"
)

// Portals.

func (q q) CountPortals(ctx context.Context) (int, error) {
	var n int
	err := q.row(ctx, "count portals", `SELECT COUNT(*) FROM portals`, func(sc scanner) error { return sc.Scan(&n) })
	return n, err
}

func (q q) CreatePortal(ctx context.Context, p store.Portal) error {
	_, err := q.exec(ctx, "create portal", `INSERT INTO portals (id, name, created_at) VALUES ($1, $2, $3)`,
		p.ID, p.Name, p.CreatedAt)
	return err
}

func (q q) GetPortal(ctx context.Context, id string) (store.Portal, error) {
	var p store.Portal
	err := q.row(ctx, "get portal", `SELECT id, name, created_at FROM portals WHERE id = $1`, func(sc scanner) error {
		return sc.Scan(&p.ID, &p.Name, &p.CreatedAt)
	}, id)
	p.CreatedAt = utc(p.CreatedAt)
	return p, err
}

// Users.

func scanUser(sc scanner) (store.User, error) {
	var u store.User
	err := sc.Scan(&u.ID, &u.PortalID, &u.Email, &u.Role, &u.PasswordHash, &u.CreatedAt)
	u.CreatedAt = utc(u.CreatedAt)
	return u, err
}

func (q q) CreateUser(ctx context.Context, u store.User) error {
	_, err := q.exec(ctx, "create user", `INSERT INTO users (`+sqlq.UserCols+`) VALUES ($1, $2, $3, $4, $5, $6)`,
		u.ID, u.PortalID, u.Email, u.Role, u.PasswordHash, u.CreatedAt)
	return err
}

func (q q) GetUser(ctx context.Context, id string) (store.User, error) {
	return one(ctx, q, "get user", `SELECT `+sqlq.UserCols+` FROM users WHERE id = $1`, scanUser, id)
}

func (q q) GetUserByEmail(ctx context.Context, email string) (store.User, error) {
	return one(ctx, q, "get user by email", `SELECT `+sqlq.UserCols+` FROM users WHERE email = $1`, scanUser, email)
}

func (q q) ListUsers(ctx context.Context, portalID string, p store.Page) ([]store.User, error) {
	var a args
	sql := sqlq.Users(portalID, p, a.add)
	return list(ctx, q, "list users", sql, scanUser, a...)
}

func (q q) CountAdmins(ctx context.Context, portalID string) (int, error) {
	var n int
	err := q.row(ctx, "count admins", `SELECT COUNT(*) FROM users WHERE portal_id = $1 AND role = 'admin'`,
		func(sc scanner) error { return sc.Scan(&n) }, portalID)
	return n, err
}

func (q q) SetUserRole(ctx context.Context, id, role string) error {
	return q.exec1(ctx, "set user role", `UPDATE users SET role = $1 WHERE id = $2`, role, id)
}

func (q q) SetUserPassword(ctx context.Context, id, hash string) error {
	return q.exec1(ctx, "set user password", `UPDATE users SET password_hash = $1 WHERE id = $2`, hash, id)
}

func (q q) DeleteUser(ctx context.Context, id string) error {
	return q.exec1(ctx, "delete user", `DELETE FROM users WHERE id = $1`, id)
}
