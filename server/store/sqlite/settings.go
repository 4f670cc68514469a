package sqlite

import "context"

// Per-portal settings.

func (q q) PortalSettings(ctx context.Context, portalID string) (map[string]string, error) {
	type kv struct{ k, v string }
	rows, err := queryAll(ctx, q.r, "portal settings", `SELECT name, value FROM portal_settings WHERE portal_id = ?`,
		[]any{portalID}, func(sc rowScanner) (p kv, err error) { return p, sc.Scan(&p.k, &p.v) })
	if err != nil {
		return nil, err
	}
	out := make(map[string]string, len(rows))
	for _, r := range rows {
		out[r.k] = r.v
	}
	return out, nil
}

func (q q) SetPortalSetting(ctx context.Context, portalID, name, value string) error {
	_, err := q.w.ExecContext(ctx, `INSERT INTO portal_settings (portal_id, name, value) VALUES (?, ?, ?)
		ON CONFLICT (portal_id, name) DO UPDATE SET value = excluded.value`, portalID, name, value)
	return mapErr("set portal setting", err)
}
