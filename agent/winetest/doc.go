// Package winetest proves the Windows agent and its MSI under Wine (scripts/test.d/80-wine.sh builds
// the MSIs and runs these tests with the build tag wine): msiexec install with SERVER_URL, the agent's
// config, PATH, Run key and Start-menu entry; the agent (printdock-agent.exe under Wine) signing in to
// a real printdock-server on this Linux machine, printing a job on a tcp:// simulated printer
// byte-exact and being logged out with reason rotated; upgrade in place keeping the login; uninstall,
// with and without REMOVE_SECRET=1. It holds no code outside its tests.
package winetest
