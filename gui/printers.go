package gui

import (
	"context"
	"fmt"
	"image/color"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"printdock/agent/localapi"
)

// printersScreen lists the printers the agent sees, with their live state, and prints the built-in
// test label, showing its rendered preview.
type printersScreen struct {
	u       *UI
	content fyne.CanvasObject

	list  *fyne.Container
	empty *widget.Label
	rows  map[string]*printerRow
	order []string

	previewTitle *widget.Label
	previewImg   *canvas.Image
	previewMsg   *widget.Label
}

// printerRow is one printer's line. Rows are kept and updated in place as states change.
type printerRow struct {
	box    *fyne.Container
	dot    *canvas.Circle
	name   *widget.Label
	id     *widget.Label
	state  *widget.Label
	caps   *widget.Label // language, dpi, status mode
	advice *widget.Label
	alert  *widget.Label // "Needs attention for 12 min" while the agent reports the printer in alert
	test   *widget.Button
}

func newPrintersScreen(u *UI) *printersScreen {
	s := &printersScreen{u: u, rows: map[string]*printerRow{}}
	s.empty = widget.NewLabel("No printers found. Plug in a label printer and switch it on; it appears here within a few seconds.")
	s.empty.Wrapping = fyne.TextWrapWord
	s.list = container.NewVBox(s.empty)

	s.previewTitle = widget.NewLabelWithStyle("Test label", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	s.previewImg = canvas.NewImageFromResource(nil)
	s.previewImg.FillMode = canvas.ImageFillContain
	s.previewImg.SetMinSize(fyne.NewSize(240, 240))
	s.previewImg.Hide()
	s.previewMsg = widget.NewLabel("Press Test print next to a printer to print the built-in test label; its preview appears here.")
	s.previewMsg.Wrapping = fyne.TextWrapWord

	refresh := widget.NewButtonWithIcon("Refresh", theme.ViewRefreshIcon(), s.reload)
	header := container.NewBorder(nil, nil,
		widget.NewLabelWithStyle("Printers on this computer", fyne.TextAlignLeading, fyne.TextStyle{Bold: true}),
		refresh)
	preview := container.NewBorder(
		container.NewVBox(s.previewTitle, s.previewMsg), nil, nil, nil,
		s.previewImg)
	split := container.NewHSplit(container.NewVScroll(s.list), container.NewPadded(preview))
	split.Offset = 0.55
	s.content = container.NewBorder(container.NewPadded(header), nil, nil, nil, split)
	return s
}

// render shows the printers in ps, updating existing rows in place. Main goroutine only.
func (s *printersScreen) render(ps []localapi.Printer) {
	seen := make(map[string]bool, len(ps))
	order := make([]string, 0, len(ps))
	for _, p := range ps {
		seen[p.ID] = true
		order = append(order, p.ID)
		r, ok := s.rows[p.ID]
		if !ok {
			r = s.newRow(p.ID)
			s.rows[p.ID] = r
		}
		r.render(p, s.u.opts.Now())
	}
	for id := range s.rows {
		if !seen[id] {
			delete(s.rows, id)
		}
	}
	if !equalStrings(order, s.order) {
		s.order = order
		objs := make([]fyne.CanvasObject, 0, len(order)+1)
		for _, id := range order {
			objs = append(objs, s.rows[id].box)
		}
		if len(objs) == 0 {
			objs = append(objs, s.empty)
		}
		s.list.Objects = objs
		s.list.Refresh()
	}
}

func (s *printersScreen) newRow(id string) *printerRow {
	r := &printerRow{}
	r.dot = canvas.NewCircle(color.Transparent)
	dot := container.NewGridWrap(fyne.NewSize(14, 14), r.dot)
	r.name = widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	r.name.Truncation = fyne.TextTruncateEllipsis
	r.id = widget.NewLabel(id)
	r.id.Importance = widget.LowImportance
	r.id.Truncation = fyne.TextTruncateEllipsis
	r.state = widget.NewLabel("")
	r.state.Truncation = fyne.TextTruncateEllipsis
	r.caps = widget.NewLabel("")
	r.caps.Importance = widget.LowImportance
	r.caps.Truncation = fyne.TextTruncateEllipsis
	r.caps.Hide()
	r.advice = widget.NewLabel("")
	r.advice.Wrapping = fyne.TextWrapWord
	r.advice.Hide()
	r.alert = widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	r.alert.Importance = widget.DangerImportance
	r.alert.Hide()
	r.test = widget.NewButtonWithIcon("Test print", theme.DocumentPrintIcon(), func() { s.testPrint(id) })
	r.box = container.NewVBox(
		container.NewBorder(nil, nil, container.NewCenter(dot), container.NewCenter(r.test),
			container.NewVBox(r.name, r.state, r.caps, r.id)),
		r.alert,
		r.advice,
		widget.NewSeparator(),
	)
	return r
}

func (r *printerRow) render(p localapi.Printer, now time.Time) {
	name := p.Name
	if name == "" {
		name = p.ID
	}
	if p.Model != "" && p.Model != name {
		name += " · " + p.Model
	}
	r.name.SetText(name)
	state := printerStateText(p.State)
	if p.LabelsRemaining > 0 && p.State == "ready" {
		state += fmt.Sprintf(" · about %d labels left", p.LabelsRemaining)
	}
	r.state.SetText(state)
	switch p.State {
	case "ready", "busy":
		r.state.Importance = widget.SuccessImportance
		r.dot.FillColor = theme.Color(theme.ColorNameSuccess)
	case "offline", "unknown", "":
		r.state.Importance = widget.LowImportance
		r.dot.FillColor = theme.Color(theme.ColorNameDisabled)
	default:
		r.state.Importance = widget.DangerImportance
		r.dot.FillColor = theme.Color(theme.ColorNameError)
	}
	r.state.Refresh()
	r.dot.Refresh()
	if c := printerCapsText(p); c != "" {
		r.caps.SetText(c)
		r.caps.Show()
	} else {
		r.caps.Hide()
	}
	if t := printerAlertText(p, now); t != "" {
		r.alert.SetText(t)
		r.alert.Show()
	} else {
		r.alert.Hide()
	}
	if d := printerDetail(p); d != "" {
		r.advice.SetText(d)
		r.advice.Show()
	} else {
		r.advice.Hide()
	}
}

// printerAlertText is the alert line of a printer the agent reports in alert ("" when it is not).
func printerAlertText(p localapi.Printer, now time.Time) string {
	if p.AlertSince == nil {
		return ""
	}
	return fmt.Sprintf("Needs attention for %d min", int(now.Sub(*p.AlertSince)/time.Minute))
}

// printerAlerts is the status screen's alert banner: one line per printer in alert, "" when none is.
func printerAlerts(ps []localapi.Printer, now time.Time) string {
	var lines []string
	for _, p := range ps {
		if t := printerAlertText(p, now); t != "" {
			name := p.Name
			if name == "" {
				name = p.ID
			}
			lines = append(lines, name+" — "+strings.ToLower(printerStateText(p.State))+": "+strings.ToLower(t[:1])+t[1:])
		}
	}
	return strings.Join(lines, "\n")
}

// reload asks the agent for the printer list now.
func (s *printersScreen) reload() {
	s.u.goBackground(func(ctx context.Context) {
		rctx, cancel := s.u.reqCtx(ctx)
		defer cancel()
		ps, err := s.u.b.Printers(rctx)
		s.u.do(func() {
			if err != nil {
				s.previewMsg.SetText("Could not list printers: " + errorText(err))
				return
			}
			s.render(ps)
		})
	})
}

// testPrint prints the built-in test label on printer id and shows its preview.
func (s *printersScreen) testPrint(id string) {
	r := s.rows[id]
	name := id
	if r != nil {
		r.test.Disable()
		name = r.name.Text
	}
	s.previewTitle.SetText("Test label — " + name)
	s.previewMsg.SetText("Sending the test label…")
	s.u.goBackground(func(ctx context.Context) {
		rctx, cancel := s.u.reqCtx(ctx)
		defer cancel()
		res, err := s.u.b.TestPrint(rctx, localapi.TestPrintRequest{PrinterID: id})
		s.u.do(func() {
			if r := s.rows[id]; r != nil {
				r.test.Enable()
			}
			if err != nil {
				s.previewMsg.SetText("The test label did not print: " + errorText(err))
				return
			}
			s.showPreview(name, res)
			s.u.jobs.refresh()
		})
	})
}

func (s *printersScreen) showPreview(name string, res localapi.TestPrintResult) {
	msg := "Sent to " + name
	if res.JobID != "" {
		msg += " as job " + res.JobID
	}
	msg += ". This is what the label should look like."
	s.previewMsg.SetText(msg)
	if len(res.PreviewPNG) == 0 {
		s.previewImg.Hide()
		return
	}
	s.previewImg.Resource = fyne.NewStaticResource("preview-"+res.JobID+".png", res.PreviewPNG)
	s.previewImg.Show()
	s.previewImg.Refresh()
}

// printerDetail is the line under a printer that is not ready: the agent's reason in its own words
// (which for a Zebra already says what to do), or what to do when it gave none; for a printer the
// agent cannot reach, both.
func printerDetail(p localapi.Printer) string {
	reason := strings.TrimSpace(p.Reason)
	if reason == p.State || p.State == "ready" || p.State == "busy" {
		reason = ""
	}
	advice := printerAdvice(p.State)
	if p.State == "unknown" && (p.StatusMode == "none" || p.StatusMode == "auto" && p.Language != "zpl") {
		advice = "" // a printer the agent does not ask (or that never answered): nothing to check
	}
	switch {
	case reason == "":
		return advice
	case advice != "" && (p.State == "offline" || p.State == "unknown"):
		return sentence(reason) + " " + advice
	}
	return sentence(reason)
}

// sentence capitalises s and ends it with a full stop.
func sentence(s string) string {
	if s == "" {
		return ""
	}
	s = strings.ToUpper(s[:1]) + s[1:]
	if !strings.HasSuffix(s, ".") {
		s += "."
	}
	return s
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
