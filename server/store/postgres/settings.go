package postgres

import "context"

// Per-portal settings.

func (q q) PortalSettings(ctx context.Context, portalID string) (map[string]string, error) {
	type kv struct{ k, v string }
	rows, err := list(ctx, q, "portal settings", `SELECT name, value FROM portal_settings WHERE portal_id = $1`,
		func(sc scanner) (p kv, err error) { return p, sc.Scan(&p.k, &p.v) }, portalID)
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
	_, err := q.exec(ctx, "set portal setting", `INSERT INTO portal_settings (portal_id, name, value) VALUES ($1, $2, $3)
		ON CONFLICT (portal_id, name) DO UPDATE SET value = excluded.value`, portalID, name, value)
	return err
}
