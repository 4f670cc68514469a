package sqlite

import (
	"context"

	"printdock/server/store"
	"printdock/server/store/internal/sqlq"
)

// Portals.

func (q q) CountPortals(ctx context.Context) (int, error) {
	var n int
	err := q.r.QueryRowContext(ctx, `SELECT COUNT(*) FROM portals`).Scan(&n)
	return n, mapErr("count portals", err)
}

func (q q) CreatePortal(ctx context.Context, p store.Portal) error {
	_, err := q.w.ExecContext(ctx, `INSERT INTO portals (id, name, created_at) VALUES (?, ?, ?)`, p.ID, p.Name, us(p.CreatedAt))
	return mapErr("create portal", err)
}

func (q q) GetPortal(ctx context.Context, id string) (store.Portal, error) {
	var p store.Portal
	var at int64
	err := q.r.QueryRowContext(ctx, `SELECT id, name, created_at FROM portals WHERE id = ?`, id).Scan(&p.ID, &p.Name, &at)
	p.CreatedAt = ut(at)
	return p, mapErr("get portal", err)
}

// Users.

func scanUser(sc rowScanner) (store.User, error) {
	var u store.User
	var at int64
	err := sc.Scan(&u.ID, &u.PortalID, &u.Email, &u.Role, &u.PasswordHash, &at)
	u.CreatedAt = ut(at)
	return u, err
}

func (q q) CreateUser(ctx context.Context, u store.User) error {
	_, err := q.w.ExecContext(ctx, `INSERT INTO users (`+sqlq.UserCols+`) VALUES (?, ?, ?, ?, ?, ?)`,
		u.ID, u.PortalID, u.Email, u.Role, u.PasswordHash, us(u.CreatedAt))
	return mapErr("create user", err)
}

func (q q) GetUser(ctx context.Context, id string) (store.User, error) {
	u, err := scanUser(q.r.QueryRowContext(ctx, `SELECT `+sqlq.UserCols+` FROM users WHERE id = ?`, id))
	return u, mapErr("get user", err)
}

func (q q) GetUserByEmail(ctx context.Context, email string) (store.User, error) {
	u, err := scanUser(q.r.QueryRowContext(ctx, `SELECT `+sqlq.UserCols+` FROM users WHERE email = ?`, email))
	return u, mapErr("get user by email", err)
}

func (q q) ListUsers(ctx context.Context, portalID string, p store.Page) ([]store.User, error) {
	var a args
	query := sqlq.Users(portalID, p, a.add)
	return queryAll(ctx, q.r, "list users", query, a, scanUser)
}

func (q q) CountAdmins(ctx context.Context, portalID string) (int, error) {
	var n int
	err := q.r.QueryRowContext(ctx, `SELECT COUNT(*) FROM users WHERE portal_id = ? AND role = 'admin'`, portalID).Scan(&n)
	return n, mapErr("count admins", err)
}

func (q q) SetUserRole(ctx context.Context, id, role string) error {
	return q.exec1(ctx, "set user role", `UPDATE users SET role = ? WHERE id = ?`, role, id)
}

func (q q) SetUserPassword(ctx context.Context, id, hash string) error {
	return q.exec1(ctx, "set user password", `UPDATE users SET password_hash = ? WHERE id = ?`, hash, id)
}

func (q q) DeleteUser(ctx context.Context, id string) error {
	return q.exec1(ctx, "delete user", `DELETE FROM users WHERE id = ?`, id)
}
