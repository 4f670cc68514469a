// Command printdock is the desktop app.
package main

import (
	"fyne.io/fyne/v2/app"
	"fyne.io/fyne/v2/widget"
)

func main() {
	a := app.NewWithID("io.printdock.desktop")
	w := a.NewWindow("printdock")
	w.SetContent(widget.NewLabel("printdock"))
	w.ShowAndRun()
}
