// Command printdock is the desktop app: it shows and controls the printdock agent through the agent's
// local API. When no agent service answers, it runs the agent inside the app and says so.
package main

import (
	"fmt"
	"os"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "printdock:", err)
		os.Exit(1)
	}
}
