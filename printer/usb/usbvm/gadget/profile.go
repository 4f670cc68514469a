package gadget

import (
	"context"
	"fmt"
	"slices"
	"strings"
)

// TSC is a TSPL label printer: its 1284 ID names TSPL2 only, so printer/usb must report it as a TSPL
// printer, and being no Zebra it never answers ~HS and keeps every byte it receives.
var TSC = Identity{
	Vendor:       0x1203, // TSC Auto ID Technology
	Product:      0x0230,
	Manufacturer: "TSC",
	ProductName:  "TE210 (USB gadget)",
	Serial:       "TE210A000123",
	DeviceID:     "MFG:TSC;CMD:TSPL2;MDL:TE210;CLS:PRINTER;DES:TSC TE210 thermal label printer;",
	Raw:          true,
}

// Profiles are the identities the printer can take (OpProfile), by name.
var Profiles = map[string]Identity{"zebra": Zebra, "tsc": TSC}

// ProfileNames lists the profile names, sorted.
func ProfileNames() []string {
	names := make([]string, 0, len(Profiles))
	for n := range Profiles {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// SetProfile makes the printer another model: it unplugs, takes the identity of profile name (USB IDs,
// strings, 1284 ID, whether it answers ~HS), forgets what it recorded and plugs in again. It waits for
// both, or ctx.
func (p *Printer) SetProfile(ctx context.Context, name string) error {
	id, ok := Profiles[name]
	if !ok {
		return fmt.Errorf("gadget: unknown profile %q (want %s)", name, strings.Join(ProfileNames(), ", "))
	}
	if err := p.SetPlugged(ctx, false); err != nil {
		return err
	}
	if err := p.port.SetIdentity(id); err != nil {
		return fmt.Errorf("gadget: profile %s: %w", name, err)
	}
	p.mu.Lock()
	p.raw = id.Raw
	p.rec.take()
	p.hs = hsFilter{}
	p.notifyLocked()
	p.mu.Unlock()
	p.log.Info("gadget: profile", "name", name, "device_id", id.DeviceID)
	return p.SetPlugged(ctx, true)
}
