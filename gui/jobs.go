package gui

import (
	"context"
	"sort"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"printdock/agent/localapi"
)

// jobsRefreshTicks is how many clock ticks (seconds) pass between reloads while the Jobs screen is shown.
const jobsRefreshTicks = 5

// jobsScreen lists the agent's recent jobs with their state, time and failure reason.
type jobsScreen struct {
	u       *UI
	content fyne.CanvasObject

	list    *fyne.Container
	msg     *widget.Label
	loading bool
	ticks   int
	jobs    []localapi.Job
}

func newJobsScreen(u *UI) *jobsScreen {
	s := &jobsScreen{u: u}
	s.msg = widget.NewLabel("No jobs yet. Labels printed on this computer appear here.")
	s.msg.Wrapping = fyne.TextWrapWord
	s.list = container.NewVBox()
	refresh := widget.NewButtonWithIcon("Refresh", theme.ViewRefreshIcon(), s.refresh)
	header := container.NewBorder(nil, nil,
		widget.NewLabelWithStyle("Recent print jobs", fyne.TextAlignLeading, fyne.TextStyle{Bold: true}),
		refresh)
	cols := container.NewGridWithColumns(4,
		colHead("Time"), colHead("Printer"), colHead("Title"), colHead("State"))
	s.content = container.NewBorder(
		container.NewVBox(container.NewPadded(header), cols, widget.NewSeparator()), nil, nil, nil,
		container.NewVScroll(container.NewVBox(s.msg, s.list)))
	return s
}

func colHead(t string) *widget.Label {
	return widget.NewLabelWithStyle(t, fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
}

// tick reloads the list every few seconds while it is on screen. Main goroutine only.
func (s *jobsScreen) tick() {
	if s.u.Current() != ScreenJobs {
		return
	}
	s.ticks++
	if s.ticks%jobsRefreshTicks == 0 {
		s.refresh()
	}
}

// refresh loads the jobs from the agent. Main goroutine only.
func (s *jobsScreen) refresh() {
	if s.loading {
		return
	}
	s.loading = true
	s.u.goBackground(func(ctx context.Context) {
		rctx, cancel := s.u.reqCtx(ctx)
		defer cancel()
		js, err := s.u.b.Jobs(rctx)
		s.u.do(func() {
			s.loading = false
			if err != nil {
				s.msg.SetText("Could not load the jobs: " + errorText(err))
				s.msg.Show()
				return
			}
			s.render(js)
		})
	})
}

// render shows js, newest first. Main goroutine only.
func (s *jobsScreen) render(js []localapi.Job) {
	js = append([]localapi.Job(nil), js...)
	sort.SliceStable(js, func(i, j int) bool { return js[i].Updated.After(js[j].Updated) })
	s.jobs = js
	if len(js) == 0 {
		s.msg.SetText("No jobs yet. Labels printed on this computer appear here.")
		s.msg.Show()
	} else {
		s.msg.Hide()
	}
	names := map[string]string{}
	if st, ok := s.u.Status(); ok {
		for _, p := range st.Printers {
			names[p.ID] = p.Name
		}
	}
	now := s.u.opts.Now()
	objs := make([]fyne.CanvasObject, 0, len(js))
	for _, j := range js {
		printer := names[j.PrinterID]
		if printer == "" {
			printer = j.PrinterID
		}
		title := j.Title
		if title == "" {
			title = j.ID
		}
		state := widget.NewLabel(jobStateText(j.State))
		switch j.State {
		case "done":
			state.Importance = widget.SuccessImportance
		case "failed":
			state.Importance = widget.DangerImportance
		}
		cell := func(t string) *widget.Label {
			l := widget.NewLabel(t)
			l.Truncation = fyne.TextTruncateEllipsis
			return l
		}
		row := container.NewVBox(container.NewGridWithColumns(4,
			cell(clock(now, j.Updated)), cell(printer), cell(title), state))
		if d, ok := s.u.b.(JobDiscarder); ok && j.State == localapi.JobWaiting {
			id := j.ID
			discard := widget.NewButtonWithIcon("Discard", theme.DeleteIcon(), func() { s.discard(d, id) })
			discard.Importance = widget.DangerImportance
			row.Add(container.NewHBox(discard,
				widget.NewLabel("It waits for the printer; discard it if it must not print later.")))
		}
		if j.Reason != "" {
			reason := widget.NewLabel("Reason: " + j.Reason)
			reason.Wrapping = fyne.TextWrapWord
			if j.State == "failed" {
				reason.Importance = widget.DangerImportance
			}
			row.Add(reason)
		}
		objs = append(objs, row)
	}
	s.list.Objects = objs
	s.list.Refresh()
}

// discard asks the agent to discard job id (waiting on its printer), then reloads the list. Main
// goroutine only.
func (s *jobsScreen) discard(d JobDiscarder, id string) {
	s.u.goBackground(func(ctx context.Context) {
		rctx, cancel := s.u.reqCtx(ctx)
		defer cancel()
		_, err := d.DiscardJob(rctx, id)
		s.u.do(func() {
			if err != nil {
				s.msg.SetText("Could not discard the job: " + errorText(err))
				s.msg.Show()
				return
			}
			s.refresh()
		})
	})
}
