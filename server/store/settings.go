package store

import "context"

// PortalSettingStore keeps per-portal settings as name/value pairs (package keys owns the names and
// their meaning; an absent name means its default).
type PortalSettingStore interface {
	// PortalSettings returns every setting stored for the portal (an empty map when none).
	PortalSettings(ctx context.Context, portalID string) (map[string]string, error)
	// SetPortalSetting stores value under name for the portal, replacing any earlier value.
	SetPortalSetting(ctx context.Context, portalID, name, value string) error
}
