#!/usr/bin/env bash
# Windows under Wine (docs/windows.md): builds the agent's MSI twice (versions 1.0.0 and 1.1.0, with
# scripts/package.sh msi: printdock-agent.exe, the Fyne app printdock.exe cross-built with mingw-w64),
# makes a fresh 64-bit Wine prefix with the bcryptprimitives.dll stub a Go 1.26 .exe needs under Wine 8
# (ProcessPrng; built here with mingw from packaging/windows/bcryptprimitives.c), and runs the Go test
# agent/winetest (build tag wine): msiexec install with SERVER_URL, config, PATH, Run key, Start menu,
# status --json, login through stdin with a secret from a real printdock-server on this machine, a job
# printed byte-exact on a tcp:// simulator, upgrade in place keeping the login, logout by rotation,
# uninstall with and without REMOVE_SECRET=1. Then the desktop app's sign-in screen under Xvfb
# (docs/screenshots/windows-signin.png; a blank screenshot fails).
#
# wine, gcc-mingw-w64-x86-64, wixl, msitools and xvfb come from scripts/install-deps.sh; with
# PRINTDOCK_REQUIRE_REAL=1 a missing one fails the run.
set -euo pipefail
cd "$(dirname "$0")/../.."
name=80-wine
say() { echo "$name: $*"; }
fail() { echo "$name: FAIL: $*" >&2; exit 1; }
skip() {
  [ "${PRINTDOCK_REQUIRE_REAL:-0}" = 1 ] && fail "$* (scripts/install-deps.sh; PRINTDOCK_REQUIRE_REAL=1)"
  say "SKIP: $*"
  exit 0
}
for c in wine wineserver x86_64-w64-mingw32-gcc wixl msibuild; do
  command -v "$c" >/dev/null || skip "$c is not installed"
done

start=$(date +%s)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/printdock-wine.XXXXXX")
export WINEPREFIX=$tmp/prefix WINEDEBUG=-all WINEARCH=win64 WINEDLLOVERRIDES="mscoree,mshtml="
cleanup() { wineserver -k 2>/dev/null || true; rm -rf "$tmp"; }
trap cleanup EXIT

# The MSIs, in parallel with the prefix (wineboot takes ~15 s).
( wineboot -i >"$tmp/wineboot.log" 2>&1; wineserver -w ) &
boot=$!
# 1.1.0 builds the desktop app; 1.0.0 reuses it (WIN_APP_EXE), only its agent differs.
app_exe=""
for v in 1.1.0 1.0.0; do
  if ! VERSION=$v DIST=$tmp/dist-$v TRIMPATH=0 PACKAGE_MSI=1 WIN_APP_EXE=$app_exe scripts/package.sh msi >"$tmp/package-$v.log" 2>&1; then
    cat "$tmp/package-$v.log" >&2
    fail "scripts/package.sh msi (VERSION=$v) failed"
  fi
  app_exe=$tmp/dist-1.1.0/windows/printdock.exe
done
say "MSIs 1.0.0 and 1.1.0 built in $(($(date +%s) - start)) s"
wait "$boot" || { cat "$tmp/wineboot.log" >&2; fail "wineboot failed"; }
# One wineserver for the whole run: without it every `wine` that finds none starts the prefix's
# services (services.exe, explorer, plugplay) again, seconds each.
wineserver -p
wine cmd /c exit 0 >/dev/null 2>&1 </dev/null # starts the prefix's services, outside the tests' pipes
sys32=$WINEPREFIX/drive_c/windows/system32
[ -d "$sys32" ] || fail "no 64-bit Wine prefix (no $sys32)"
x86_64-w64-mingw32-gcc -shared -O2 -o "$sys32/bcryptprimitives.dll" packaging/windows/bcryptprimitives.c \
  packaging/windows/bcryptprimitives.def -ladvapi32
# A copy of the agent outside the product, to read the state after uninstalling.
mkdir -p "$WINEPREFIX/drive_c/pdcheck"
cp "$tmp/dist-1.1.0/windows/printdock-agent.exe" "$WINEPREFIX/drive_c/pdcheck/"
say "Wine prefix ready in $(($(date +%s) - start)) s ($(wine --version))"

t0=$(date +%s)
PRINTDOCK_WINE_MSI_OLD=$tmp/dist-1.0.0/printdock-agent-1.0.0-x64.msi \
PRINTDOCK_WINE_MSI_NEW=$tmp/dist-1.1.0/printdock-agent-1.1.0-x64.msi \
PRINTDOCK_WINE_VERSION_NEW=1.1.0 \
PRINTDOCK_WINE_AGENT_COPY='C:\pdcheck\printdock-agent.exe' \
  go test -tags wine -count=1 -timeout 8m -v ./agent/winetest/ 2>&1 | tee "$tmp/gotest.log" | grep -E '^(=== RUN|--- |ok|FAIL|PASS)|wine_test|msi_test' || true
grep -q '^ok' "$tmp/gotest.log" || { tail -80 "$tmp/gotest.log" >&2; fail "agent/winetest"; }
say "agent under Wine: MSI install, login, job, upgrade, rotation, uninstall in $(($(date +%s) - t0)) s"
# The Windows side of the state-directory rules (agent/statedir_windows_test.go) on Wine's security
# descriptors: Wine keeps a file's security as Unix mode bits (owner and Everyone), so an
# Everyone-writable agent.json is refused for real; a repair to SYSTEM and Administrators only is not
# representable there (docs/windows.md).
t0=$(date +%s)
GOOS=windows CGO_ENABLED=0 go test -c -o "$tmp/agent.test.exe" ./agent/ >"$tmp/acl-build.log" 2>&1 || { cat "$tmp/acl-build.log" >&2; fail "building the agent's Windows tests"; }
if ! wine "$tmp/agent.test.exe" -test.run 'TestStateDirACLWindows|TestJudgeACL' -test.v >"$tmp/acl.log" 2>&1 </dev/null; then
  cat "$tmp/acl.log" >&2
  fail "the state-directory rules under Wine"
fi
grep -q -- '--- PASS: TestStateDirACLWindows' "$tmp/acl.log" || { cat "$tmp/acl.log" >&2; fail "TestStateDirACLWindows did not run"; }
say "state-directory ACL rules under Wine in $(($(date +%s) - t0)) s (agent.json writable by Everyone refused)"

# The desktop app under Wine and Xvfb: its sign-in screen (the agent runs inside the app, as no
# service answers), kept as docs/screenshots/windows-signin.png. A blank or one-colour image fails.
command -v Xvfb >/dev/null || skip "Xvfb is not installed"
t0=$(date +%s)
disp=""
for n in $(seq 90 140); do [ -e "/tmp/.X$n-lock" ] || { disp=":$n"; break; }; done
[ -n "$disp" ] || fail "no free X display"
app="" agent="" xvfb=""
Xvfb "$disp" -screen 0 1024x768x24 -nolisten tcp >"$tmp/xvfb.log" 2>&1 &
xvfb=$!
trap 'kill $app $xvfb 2>/dev/null || true; cleanup' EXIT
testenv_wait() { local i; for i in $(seq 1 "$2"); do eval "$1" && return 0; sleep 1; done; return 1; }
testenv_wait "[ -e /tmp/.X11-unix/X${disp#:} ]" 20 || fail "Xvfb did not start"
# The agent in the foreground first: the app must find it on the named pipe, as it finds the service.
DISPLAY=$disp wine "$tmp/dist-1.1.0/windows/printdock-agent.exe" run >"$tmp/fg-agent.log" 2>&1 </dev/null &
agent=$!
trap 'kill $app $agent $xvfb 2>/dev/null || true; cleanup' EXIT
testenv_wait "grep -q 'agent: started' '$tmp/fg-agent.log'" 60 || { cat "$tmp/fg-agent.log" >&2; fail "the agent did not start for the app"; }
DISPLAY=$disp wine "$tmp/dist-1.1.0/windows/printdock.exe" >"$tmp/app.log" 2>&1 &
app=$!
if ! testenv_wait "grep -q 'printdock: ready.*screen=signin' '$tmp/app.log'" 120; then
  cat "$tmp/app.log" >&2
  fail "the desktop app did not show its sign-in screen under Wine within 120 s"
fi
# Fyne paints asynchronously after "ready": take screenshots until one shows the window (20 s).
shot=docs/screenshots/windows-signin.png
blank() {
  import -display "$disp" -window root "$tmp/root.png" &&
    convert "$tmp/root.png" -trim +repage "$tmp/shot.png" &&
    read -r sd colours < <(convert "$tmp/shot.png" -format '%[fx:standard_deviation] %k' info:) &&
    ! awk -v sd="$sd" -v c="$colours" 'BEGIN { exit !(sd > 0.05 && c > 20) }'
}
sd=0 colours=0
testenv_wait "! blank" 20 || fail "the screenshot is blank (std dev $sd, $colours colours)"
cp "$tmp/shot.png" "$shot"
size=$(identify -format '%wx%h' "$shot")
grep -q 'printdock: using the running agent.*pipe' "$tmp/app.log" || { cat "$tmp/app.log" >&2; fail "the app did not use the agent on the named pipe"; }
kill "$app" "$agent" 2>/dev/null || true
say "desktop app: uses the agent on the named pipe; sign-in screen under Wine + Xvfb in $(($(date +%s) - t0)) s ($shot, $size, $colours colours)"
say "all Wine checks passed in $(($(date +%s) - start)) s"
