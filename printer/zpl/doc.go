// Package zpl owns the agent's knowledge of Zebra's ZPL II language: reading what a printer says about
// itself (host status), and drawing a preview of a label as the printer would print it.
//
// The preview renderer (Render, RenderPNG, RenderLabel) draws the subset of ZPL that shipping labels use
// onto a 1-bit image: text in fonts 0 and A–H (approximated with the Go fonts), field blocks, boxes,
// reverse fields, ^GF graphics (ASCII hex with ZPL compression, :Z64:, :B64:, binary), Code 128, Code 39,
// QR and Data Matrix. Everything it does not draw is reported in RenderResult.Skipped, and anything it drew
// only approximately, or could not draw, in RenderResult.Warnings, so a UI can say so next to the picture.
// docs/zpl-preview.md lists what is supported and what is skipped.
package zpl
