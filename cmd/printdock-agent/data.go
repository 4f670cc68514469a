package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"text/tabwriter"
	"time"

	"printdock/agent"
	"printdock/agent/localapi"
)

func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// cmdLogout deletes the secret through the running agent or directly.
func cmdLogout(ctx context.Context, c *call) error {
	st, err := c.g.api(ctx).Logout(ctx)
	if err != nil {
		return err
	}
	if c.o.asJSON {
		return printJSON(c.e.stdout, st)
	}
	fmt.Fprintln(c.e.stdout, "Logged out: the secret was deleted.")
	return nil
}

func printPrinters(w io.Writer, ps []localapi.Printer) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "PRINTER\tNAME\tSTATE\tDETAIL")
	for _, p := range ps {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", p.ID, p.Name, p.State, p.Reason)
	}
	tw.Flush()
}

// cmdPrinters lists printers: the running agent's, else checked once directly.
func cmdPrinters(ctx context.Context, c *call) error {
	ps, err := c.g.api(ctx).Printers(ctx)
	if err != nil {
		return err
	}
	if c.o.asJSON {
		if ps == nil {
			ps = []localapi.Printer{}
		}
		return printJSON(c.e.stdout, ps)
	}
	if len(ps) == 0 {
		fmt.Fprintln(c.e.stdout, "No printers. Add one with --printer URI (tcp://host:9100) or in the config file.")
		return nil
	}
	printPrinters(c.e.stdout, ps)
	return nil
}

// cmdTestPrint prints the test label through the running agent or directly.
func cmdTestPrint(ctx context.Context, c *call) error {
	id := c.o.printer
	if id == "" && len(c.g.printers) > 0 {
		// `test-print --printer ID`: the global --printer flag names the printer to test.
		id = c.g.printers[len(c.g.printers)-1]
	}
	api := c.g.api(ctx)
	pctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	res, err := api.TestPrint(pctx, localapi.TestPrintRequest{PrinterID: id})
	if err != nil {
		return err
	}
	if c.o.asJSON {
		return printJSON(c.e.stdout, res)
	}
	fmt.Fprintf(c.e.stdout, "Test label sent to %s.\n", res.PrinterID)
	if res.PreviewPath != "" {
		fmt.Fprintf(c.e.stdout, "Preview: %s\n", res.PreviewPath)
	}
	return nil
}

// cmdJobs lists the recent jobs: the running agent's, else the spool's.
func cmdJobs(ctx context.Context, c *call) error {
	js, err := c.g.api(ctx).Jobs(ctx)
	if err != nil {
		return err
	}
	if js == nil {
		js = []localapi.Job{}
	}
	if c.o.asJSON {
		return printJSON(c.e.stdout, js)
	}
	tw := tabwriter.NewWriter(c.e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "JOB\tPRINTER\tSTATE\tUPDATED\tREASON")
	for _, j := range js {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", j.ID, j.PrinterID, j.State, j.Updated.Local().Format(time.DateTime), j.Reason)
	}
	return tw.Flush()
}

// cmdPreview renders a spooled job's label (through the running agent, else from the spool).
func cmdPreview(ctx context.Context, c *call) error {
	res, err := c.g.api(ctx).JobPreview(ctx, c.o.jobID)
	if err != nil {
		return err
	}
	if c.o.outFile != "" {
		if err := os.WriteFile(c.o.outFile, res.PreviewPNG, 0o644); err != nil {
			return fmt.Errorf("write the preview: %w", err)
		}
		res.PreviewPath = c.o.outFile
	}
	if c.o.asJSON {
		res.PreviewPNG = nil // the file has it
		return printJSON(c.e.stdout, res)
	}
	fmt.Fprintf(c.e.stdout, "Preview of job %s: %s\n", c.o.jobID, res.PreviewPath)
	return nil
}

// cmdLogs prints the running agent's recent log lines.
func cmdLogs(ctx context.Context, c *call) error {
	ls, err := c.g.api(ctx).Logs(ctx, c.o.lines)
	if err != nil {
		return err
	}
	if c.o.asJSON {
		return printJSON(c.e.stdout, ls)
	}
	for _, l := range ls {
		fmt.Fprintf(c.e.stdout, "%s %-5s %s %s\n", l.Time.Local().Format(time.DateTime), l.Level, l.Message, l.Attrs)
	}
	return nil
}

func cmdVersion(_ context.Context, c *call) error {
	if c.o.asJSON {
		return printJSON(c.e.stdout, map[string]string{"version": agent.Version})
	}
	_, err := fmt.Fprintf(c.e.stdout, "printdock-agent %s\n", agent.Version)
	return err
}
