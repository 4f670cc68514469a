package agent

import "testing"

func TestJudgeACL(t *testing.T) {
	const (
		users   = "S-1-5-32-545"
		auth    = "S-1-5-11"
		someone = "S-1-5-21-1-2-3-1001"
		svc     = "S-1-5-80-1-2-3-4-5"
		// what %ProgramData% hands a new subdirectory: Users read and create files/folders
		usersCreate = rightWriteData | rightAppendData
		readExec    = 0x001200a9
		fullControl = 0x001f01ff
	)
	protected := []ACE{{Allow: true, SID: sidSystem, Mask: fullControl}, {Allow: true, SID: sidAdministrators, Mask: fullControl}}
	with := func(extra ...ACE) []ACE { return append(append([]ACE(nil), protected...), extra...) }
	cases := []struct {
		name     string
		owner    string
		dacl     []ACE
		isConfig bool
		want     ACLAction
	}{
		{"protected, owned by Administrators", sidAdministrators, protected, false, ACLOK},
		{"protected, owned by SYSTEM", sidSystem, protected, true, ACLOK},
		{"owned by TrustedInstaller", sidTrustedInst, protected, false, ACLOK},
		{"owned by the agent's own service account", svc, protected, false, ACLOK},
		{"owned by a user", someone, protected, false, ACLRefuse},
		{"agent.json owned by a user", someone, protected, true, ACLRefuse},
		{"ProgramData's inheritance: Users read and create", sidAdministrators, with(ACE{Allow: true, SID: users, Mask: readExec}, ACE{Allow: true, SID: users, Mask: usersCreate}), false, ACLRepair},
		{"agent.json writable by Users", sidAdministrators, with(ACE{Allow: true, SID: users, Mask: rightWriteData}), true, ACLRefuse},
		{"agent.json with GENERIC_ALL for Authenticated Users", sidSystem, with(ACE{Allow: true, SID: auth, Mask: rightGenericAll}), true, ACLRefuse},
		{"agent.json: a user may change its DACL", sidSystem, with(ACE{Allow: true, SID: someone, Mask: rightWriteDAC}), true, ACLRefuse},
		{"agent.json readable by Users", sidAdministrators, with(ACE{Allow: true, SID: users, Mask: readExec}), true, ACLRepair},
		{"spool readable by Users", sidSystem, with(ACE{Allow: true, SID: users, Mask: rightGenericRead}), false, ACLRepair},
		{"a deny ACE takes nothing to fix", sidSystem, with(ACE{Allow: false, SID: users, Mask: fullControl}), true, ACLOK},
		{"inherit-only ACE (CREATOR OWNER) does not apply to the object", sidSystem, with(ACE{Allow: true, SID: "S-1-3-0", Mask: fullControl, InheritOnly: true}), false, ACLOK},
		{"NULL DACL on the directory", sidSystem, nil, false, ACLRepair},
		{"NULL DACL on agent.json", sidSystem, nil, true, ACLRefuse},
		{"the owner SID in lower case", "s-1-5-18", protected, true, ACLOK},
	}
	for _, c := range cases {
		v := JudgeACL(`C:\ProgramData\printdock\x`, c.owner, c.dacl, c.isConfig, svc)
		if v.Action != c.want {
			t.Errorf("%s: %s (%s), want %s", c.name, v.Action, v.Reason, c.want)
		}
		if (v.Action == ACLOK) != (v.Reason == "") {
			t.Errorf("%s: reason %q with action %s", c.name, v.Reason, v.Action)
		}
	}
}
