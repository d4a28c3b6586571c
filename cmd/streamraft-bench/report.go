package main

import (
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
)

// Target is one endpoint measured: its name in the reports and its seed
// addresses.
type Target struct {
	Label   string   `json:"label"`
	Addrs   []string `json:"addrs"`
	Cluster bool     `json:"cluster"` // a cluster client was used
}

// Result is the summary of one series of one run, as the table, the JSON
// and the CSV show it. Latencies are in milliseconds.
type Result struct {
	Target    Target  `json:"target"`
	Workload  string  `json:"workload"` // the series: xadd, group, e2e, e2e/produce, ...
	Ops       int64   `json:"ops"`
	Seconds   float64 `json:"seconds"`
	OpsPerSec float64 `json:"ops_per_sec"`
	P50ms     float64 `json:"p50_ms"`
	P90ms     float64 `json:"p90_ms"`
	P99ms     float64 `json:"p99_ms"`
	P999ms    float64 `json:"p999_ms"`
	MaxMs     float64 `json:"max_ms"`
	Errors    int64   `json:"errors"`
	FirstErr  string  `json:"first_error,omitempty"`
	Timeline  []Point `json:"timeline"`
	// CPU: the load generator's CPU time over the measured window, and each
	// server process's when this tool started it (--compare).
	CPU []CPUUse `json:"cpu,omitempty"`
}

func newResult(s *series, t Target, secs float64) Result {
	h := s.total.hist
	r := Result{
		Target: t, Workload: s.name, Ops: s.total.ops, Seconds: secs,
		P50ms: ms(h.Percentile(50)), P90ms: ms(h.Percentile(90)), P99ms: ms(h.Percentile(99)),
		P999ms: ms(h.Percentile(99.9)), MaxMs: ms(h.Max()), Errors: s.total.errs,
		Timeline: s.timeline,
	}
	if secs > 0 {
		r.OpsPerSec = float64(r.Ops) / secs
	}
	if s.total.firstErr != nil {
		r.FirstErr = s.total.firstErr.Error()
	}
	return r
}

// Ratio compares streamraft with one redis-server configuration for one
// series of a --compare run.
type Ratio struct {
	Workload  string  `json:"workload"`
	Against   string  `json:"against"`
	OpsPerSec float64 `json:"ops_per_sec"` // streamraft / redis
	P99       float64 `json:"p99"`         // streamraft / redis
}

// compareRatios pairs the streamraft results with those of each redis
// target of a --compare run.
func compareRatios(results []Result, streamraft string, redis []string) []Ratio {
	var out []Ratio
	for _, sr := range results {
		if sr.Target.Label != streamraft {
			continue
		}
		for _, against := range redis {
			for _, r := range results {
				if r.Target.Label == against && r.Workload == sr.Workload {
					out = append(out, Ratio{Workload: sr.Workload, Against: against,
						OpsPerSec: safeDiv(sr.OpsPerSec, r.OpsPerSec), P99: safeDiv(sr.P99ms, r.P99ms)})
				}
			}
		}
	}
	return out
}

func safeDiv(a, b float64) float64 {
	if b == 0 {
		return 0
	}
	return a / b
}

// writeOutputs prints the table (and the ratios of a --compare run) on
// stdout and writes the --json, --csv and --plot files.
func writeOutputs(cfg config, results []Result, stdout io.Writer) error {
	var ratios []Ratio
	if cfg.compare {
		ratios = compareRatios(results, streamraftLabel(cfg.nodes), []string{labelRedisAlways, labelRedisEverysec})
	}
	if err := writeTable(stdout, results); err != nil {
		return fmt.Errorf("write table: %w", err)
	}
	if len(ratios) > 0 {
		if err := writeRatios(stdout, ratios); err != nil {
			return fmt.Errorf("write ratios: %w", err)
		}
	}
	if err := writeCPU(stdout, results); err != nil {
		return fmt.Errorf("write cpu: %w", err)
	}
	var errs []error
	if cfg.jsonOut != "" {
		errs = append(errs, writeTo(cfg.jsonOut, stdout, func(w io.Writer) error { return writeJSON(w, results, ratios) }))
	}
	if cfg.csvOut != "" {
		errs = append(errs, writeTo(cfg.csvOut, stdout, func(w io.Writer) error { return writeCSV(w, results) }))
	}
	if cfg.plotOut != "" {
		errs = append(errs, writeTo(cfg.plotOut, stdout, func(w io.Writer) error { return writeSVG(w, results) }))
	}
	return errors.Join(errs...)
}

// writeTo runs write on the named file, or on stdout for "-".
func writeTo(name string, stdout io.Writer, write func(io.Writer) error) error {
	if name == "-" {
		return write(stdout)
	}
	f, err := os.Create(name)
	if err != nil {
		return fmt.Errorf("create %s: %w", name, err)
	}
	if err := write(f); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", name, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("close %s: %w", name, err)
	}
	return nil
}

// writeTable prints one line per result.
func writeTable(w io.Writer, results []Result) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "workload\ttarget\tops\tops/s\tp50 ms\tp90 ms\tp99 ms\tp99.9 ms\tmax ms\terrors\t")
	for _, r := range results {
		fmt.Fprintf(tw, "%s\t%s\t%d\t%.0f\t%s\t%s\t%s\t%s\t%s\t%d\t\n", r.Workload, r.Target.Label, r.Ops,
			r.OpsPerSec, sig3(r.P50ms), sig3(r.P90ms), sig3(r.P99ms), sig3(r.P999ms), sig3(r.MaxMs), r.Errors)
	}
	return tw.Flush()
}

// writeCPU prints, per result, the CPU each process used in the measured
// window: what limits a run on a machine the servers and the load
// generator share. Nothing is printed when no result has CPU figures.
func writeCPU(w io.Writer, results []Result) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	header := false
	for _, r := range results {
		if len(r.CPU) == 0 {
			continue
		}
		if !header {
			fmt.Fprintln(tw, "\nworkload\ttarget\tprocess\tcores\tCPU us/op\t")
			header = true
		}
		var total float64
		for _, u := range r.CPU {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%.2f\t%s\t\n", r.Workload, r.Target.Label, u.Process, u.Cores, sig3(u.USPerOp))
			total += u.USPerOp
		}
		if len(r.CPU) > 1 {
			fmt.Fprintf(tw, "%s\t%s\t%s\t\t%s\t\n", r.Workload, r.Target.Label, "all", sig3(total))
		}
	}
	return tw.Flush()
}

// writeRatios prints streamraft's figures relative to each redis-server.
func writeRatios(w io.Writer, ratios []Ratio) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "\nworkload\tstreamraft / \tops/s ratio\tp99 ratio\t")
	for _, r := range ratios {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t\n", r.Workload, r.Against, sig3(r.OpsPerSec), sig3(r.P99))
	}
	return tw.Flush()
}

// jsonReport is the --json document.
type jsonReport struct {
	Results []Result `json:"results"`
	Ratios  []Ratio  `json:"ratios,omitempty"`
}

func writeJSON(w io.Writer, results []Result, ratios []Ratio) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(jsonReport{Results: results, Ratios: ratios})
}

// csvHeader is the --csv header: one "total" row per result, then one
// "second" row per point of its timeline (p90 and max are totals only).
var csvHeader = []string{"kind", "target", "workload", "second", "ops", "ops_per_sec",
	"p50_ms", "p90_ms", "p99_ms", "p999_ms", "max_ms", "errors"}

func writeCSV(w io.Writer, results []Result) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(csvHeader); err != nil {
		return err
	}
	for _, r := range results {
		row := []string{"total", r.Target.Label, r.Workload, num(r.Seconds), strconv.FormatInt(r.Ops, 10),
			num(r.OpsPerSec), num(r.P50ms), num(r.P90ms), num(r.P99ms), num(r.P999ms), num(r.MaxMs),
			strconv.FormatInt(r.Errors, 10)}
		if err := cw.Write(row); err != nil {
			return err
		}
		for _, p := range r.Timeline {
			row := []string{"second", r.Target.Label, r.Workload, num(p.Second), strconv.FormatInt(p.Ops, 10),
				num(p.OpsPerSec), num(p.P50ms), "", num(p.P99ms), num(p.P999ms), "", strconv.FormatInt(p.Errors, 10)}
			if err := cw.Write(row); err != nil {
				return err
			}
		}
	}
	cw.Flush()
	return cw.Error()
}

// num formats a float for CSV: shortest exact form.
func num(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

// sig3 formats v with 3 significant digits, without an exponent.
func sig3(v float64) string {
	if v == 0 || math.IsNaN(v) || math.IsInf(v, 0) {
		return strconv.FormatFloat(v, 'f', 0, 64)
	}
	mag := int(math.Floor(math.Log10(math.Abs(v))))
	scale := math.Pow(10, float64(2-mag))
	rounded := math.Round(v*scale) / scale
	// Rounding can carry into the next power of ten (9.996 -> 10.0).
	if m := int(math.Floor(math.Log10(math.Abs(rounded)))); m != mag {
		mag = m
	}
	s := strconv.FormatFloat(rounded, 'f', max(0, 2-mag), 64)
	return strings.TrimSuffix(s, ".")
}
