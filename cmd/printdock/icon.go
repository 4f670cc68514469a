package main

import "fyne.io/fyne/v2/theme"

// appIcon is the window and tray icon until packaging/ ships the product icon.
var appIcon = theme.DocumentPrintIcon()
