package portal

import (
	"context"
	"net/http"
	"slices"

	"printdock/server/hub"
	"printdock/server/store"
)

// giveOwnSecret gives a shared-secret device its own print client secret (same device ID) and shows it
// once; the device's agent was signed out with a reason that tells staff to paste it.
func (p *portal) giveOwnSecret(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	created, err := p.svc.GiveOwnSecret(r.Context(), c.actor, r.PathValue("id"))
	if err != nil {
		p.fail(w, r, c, err)
		return
	}
	p.showSecrets(w, r, c, "keys", secretData{
		Heading: "Device given its own secret",
		Intro: "The device keeps its ID, printers and jobs, and no longer uses the shared secret. Its agent was signed out " +
			"and asks staff to paste this new secret.",
		Facts:     keyFacts(created.Key),
		Items:     []secretItem{p.secretItem(c, "Print client secret", "secret", created.Secret, "client-secret", created.Key.Description)},
		Back:      "/keys",
		BackLabel: "print client secrets",
	})
}

// useSharedSecret moves a print client key to the portal's shared secret; its ID becomes the device ID.
func (p *portal) useSharedSecret(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	created, err := p.svc.UseSharedSecret(r.Context(), c.actor, r.PathValue("id"))
	if err != nil {
		p.fail(w, r, c, err)
		return
	}
	d := secretData{
		Heading: "Device moved to the shared secret",
		Intro: "Its own secret stopped working and its agent was signed out. Sign the agent in again with the shared " +
			"secret and this device ID.",
		Facts: keyFacts(created.Key),
		Items: []secretItem{{Label: "Device ID", Value: created.Key.ID, ID: "device-id", Plain: true,
			Hint: "Not a secret: the agent sends it with the shared secret."}},
		Back: "/keys", BackLabel: "print client secrets",
	}
	if created.Secret != "" {
		d.Items = append(d.Items, p.secretItem(c, "Shared API access secret (new)", "secret", created.Secret, "shared-secret", ""))
	}
	p.showSecrets(w, r, c, "keys", d)
}

// installationsByKey returns, for each print client key live from more than one installation, the
// hostnames of those installations (sorted): the keys page flags them.
func installationsByKey(clients []hub.ClientInfo) map[string][]string {
	inst := map[string]map[string]string{} // key → installation ID → hostname
	for _, c := range clients {
		if inst[c.CredentialID] == nil {
			inst[c.CredentialID] = map[string]string{}
		}
		inst[c.CredentialID][c.InstallationID] = c.Hostname
	}
	out := map[string][]string{}
	for key, m := range inst {
		if len(m) > 1 {
			for _, h := range m {
				out[key] = append(out[key], h)
			}
			slices.Sort(out[key])
		}
	}
	return out
}

// liveClients lists the portal's agents connected now: this replica's (the hub) and, from the store, those
// of the other replicas (one secret per installation is flagged across replicas). A store error is logged
// and leaves the hub's list.
func (p *portal) liveClients(ctx context.Context, portalID string) []hub.ClientInfo {
	out := p.hub.Clients(portalID)
	if p.opts.Jobs == nil {
		return out
	}
	cs, err := p.opts.Jobs.ListClients(ctx, portalID, store.Page{})
	if err != nil {
		p.log.Error("portal: live clients", "err", err)
		return out
	}
	for _, c := range cs {
		if c.Online {
			out = append(out, hub.ClientInfo{ClientID: c.ID, CredentialID: c.CredentialID, InstallationID: c.InstallationID,
				Hostname: c.Hostname})
		}
	}
	return out
}
