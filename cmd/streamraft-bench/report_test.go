package main

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"encoding/xml"
	"errors"
	"io"
	"strconv"
	"strings"
	"testing"
)

// sampleResults are two runs as --compare or two --label'ed targets give:
// the second's label needs escaping in XML.
func sampleResults() []Result {
	mk := func(label string, rate, p50 float64, seconds int) Result {
		r := Result{Target: Target{Label: label, Addrs: []string{"127.0.0.1:6379"}}, Workload: "xadd",
			Seconds: float64(seconds), P50ms: p50, P90ms: 2 * p50, P99ms: 4 * p50, P999ms: 8 * p50, MaxMs: 9 * p50}
		for s := 1; s <= seconds; s++ {
			r.Timeline = append(r.Timeline, Point{Second: float64(s), Ops: int64(rate), OpsPerSec: rate,
				P50ms: p50, P99ms: 4 * p50, P999ms: 8 * p50})
			r.Ops += int64(rate)
		}
		r.OpsPerSec = float64(r.Ops) / r.Seconds
		return r
	}
	return []Result{mk("redis-always", 28000, 1.5, 3), mk(`stream<raft> & "co"`, 15000, 3, 4)}
}

// svgDoc is what the test reads back from the SVG.
type svgDoc struct {
	XMLName   xml.Name `xml:"svg"`
	Polylines []struct {
		Series string `xml:"data-series,attr"`
		Kind   string `xml:"data-kind,attr"`
		Points string `xml:"points,attr"`
	} `xml:"polyline"`
	Texts []string `xml:"text"`
}

func TestSVGWellFormedWithOnePolylinePerSeries(t *testing.T) {
	results := sampleResults()
	var b bytes.Buffer
	if err := writeSVG(&b, results); err != nil {
		t.Fatalf("writeSVG: %v", err)
	}
	// Well formed: the decoder reads every token to the end.
	dec := xml.NewDecoder(bytes.NewReader(b.Bytes()))
	for {
		_, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("SVG is not well-formed XML: %v\n%s", err, b.String())
		}
	}
	var doc svgDoc
	if err := xml.Unmarshal(b.Bytes(), &doc); err != nil {
		t.Fatalf("unmarshal SVG: %v", err)
	}
	// One throughput line and one line per percentile for every run.
	want := map[string]int{}
	for _, r := range results {
		want[seriesName(r)+"|throughput"] = len(r.Timeline)
		for _, pl := range percentileLines {
			want[seriesName(r)+"|"+pl.name] = len(r.Timeline)
		}
	}
	if len(doc.Polylines) != len(want) {
		t.Errorf("%d polylines; want %d (%d runs x 4 series)", len(doc.Polylines), len(want), len(results))
	}
	for _, pl := range doc.Polylines {
		key := pl.Series + "|" + pl.Kind
		n, ok := want[key]
		if !ok {
			t.Errorf("unexpected or duplicate polyline %q", key)
			continue
		}
		delete(want, key)
		if got := len(strings.Fields(pl.Points)); got != n {
			t.Errorf("polyline %q has %d points; want %d", key, got, n)
		}
	}
	for key := range want {
		t.Errorf("missing polyline %q", key)
	}
	all := strings.Join(doc.Texts, "\n")
	for _, s := range []string{"time (s)", "ops/s", "latency (ms, log scale)", seriesName(results[1]), "p99.9"} {
		if !strings.Contains(all, s) {
			t.Errorf("SVG texts lack %q", s)
		}
	}
}

func TestCSVShape(t *testing.T) {
	results := sampleResults()
	var b bytes.Buffer
	if err := writeCSV(&b, results); err != nil {
		t.Fatalf("writeCSV: %v", err)
	}
	rows, err := csv.NewReader(&b).ReadAll() // also checks every row has the header's width
	if err != nil {
		t.Fatalf("read CSV back: %v", err)
	}
	wantRows := 1
	for _, r := range results {
		wantRows += 1 + len(r.Timeline)
	}
	if len(rows) != wantRows {
		t.Fatalf("%d CSV rows; want %d (header, a total and one row per second of each result)", len(rows), wantRows)
	}
	if got := strings.Join(rows[0], ","); got != strings.Join(csvHeader, ",") {
		t.Errorf("header = %s; want %s", got, strings.Join(csvHeader, ","))
	}
	col := func(name string) int {
		for i, h := range csvHeader {
			if h == name {
				return i
			}
		}
		t.Fatalf("no column %s", name)
		return -1
	}
	total := rows[1]
	if total[col("kind")] != "total" || total[col("target")] != "redis-always" || total[col("ops")] != "84000" {
		t.Errorf("first total row = %q; want kind total, target redis-always, ops 84000", total)
	}
	if got, _ := strconv.ParseFloat(total[col("p99_ms")], 64); got != 6 {
		t.Errorf("p99_ms = %s; want 6", total[col("p99_ms")])
	}
	second := rows[2]
	if second[col("kind")] != "second" || second[col("second")] != "1" || second[col("ops_per_sec")] != "28000" {
		t.Errorf("first second row = %q; want kind second, second 1, ops_per_sec 28000", second)
	}
}

func TestJSONShape(t *testing.T) {
	results := sampleResults()
	ratios := compareRatios(results, results[1].Target.Label, []string{"redis-always"})
	var b bytes.Buffer
	if err := writeJSON(&b, results, ratios); err != nil {
		t.Fatalf("writeJSON: %v", err)
	}
	var doc struct {
		Results []map[string]any `json:"results"`
		Ratios  []Ratio          `json:"ratios"`
	}
	if err := json.Unmarshal(b.Bytes(), &doc); err != nil {
		t.Fatalf("unmarshal JSON: %v\n%s", err, b.String())
	}
	if len(doc.Results) != len(results) {
		t.Fatalf("%d results; want %d", len(doc.Results), len(results))
	}
	for _, key := range []string{"target", "workload", "ops", "ops_per_sec", "p50_ms", "p90_ms", "p99_ms", "p999_ms", "max_ms", "errors", "timeline"} {
		if _, ok := doc.Results[0][key]; !ok {
			t.Errorf("result lacks %q: %v", key, doc.Results[0])
		}
	}
	if tl, _ := doc.Results[1]["timeline"].([]any); len(tl) != 4 {
		t.Errorf("second result's timeline has %d points; want 4", len(tl))
	}
	// streamraft (15,000/s, p99 12 ms) against redis (28,000/s, p99 6 ms).
	if len(doc.Ratios) != 1 {
		t.Fatalf("ratios = %+v; want one", doc.Ratios)
	}
	if r := doc.Ratios[0]; r.Against != "redis-always" || r.P99 != 2 || r.OpsPerSec != 15000.0/28000.0 {
		t.Errorf("ratio = %+v; want against redis-always, ops/s %g, p99 2", r, 15000.0/28000.0)
	}
}

func TestTableHasEveryColumn(t *testing.T) {
	var b bytes.Buffer
	if err := writeTable(&b, sampleResults()); err != nil {
		t.Fatalf("writeTable: %v", err)
	}
	lines := strings.Split(strings.TrimSpace(b.String()), "\n")
	if len(lines) != 3 {
		t.Fatalf("table has %d lines; want a header and 2 rows:\n%s", len(lines), b.String())
	}
	for _, col := range []string{"workload", "target", "ops", "ops/s", "p50", "p90", "p99", "p99.9", "max", "errors"} {
		if !strings.Contains(lines[0], col) {
			t.Errorf("header %q lacks %q", lines[0], col)
		}
	}
	// redis-always: 28,000/s, p50 1.5 ms, p99.9 12 ms, max 13.5 ms.
	if f := strings.Fields(lines[1]); strings.Join(f, " ") != "xadd redis-always 84000 28000 1.50 3.00 6.00 12.0 13.5 0" {
		t.Errorf("row = %q; want xadd redis-always 84000 28000 1.50 3.00 6.00 12.0 13.5 0", strings.Join(f, " "))
	}
}

// TestCPUTable: one row per process and a total per result that has CPU
// figures; nothing at all when none has.
func TestCPUTable(t *testing.T) {
	var b bytes.Buffer
	if err := writeCPU(&b, sampleResults()); err != nil || b.Len() != 0 {
		t.Fatalf("writeCPU without figures wrote %q (%v); want nothing", b.String(), err)
	}
	rs := sampleResults()
	rs[1].CPU = []CPUUse{{Process: "streamraft-n1", Cores: 0.62, USPerOp: 31.5}, {Process: "streamraft-bench", Cores: 0.4, USPerOp: 20.25}}
	if err := writeCPU(&b, rs); err != nil {
		t.Fatalf("writeCPU: %v", err)
	}
	lines := strings.Split(strings.TrimSpace(b.String()), "\n")
	want := []string{
		"workload target process cores CPU us/op",
		"xadd " + rs[1].Target.Label + " streamraft-n1 0.62 31.5",
		"xadd " + rs[1].Target.Label + " streamraft-bench 0.40 20.3",
		"xadd " + rs[1].Target.Label + " all 51.8",
	}
	if len(lines) != len(want) {
		t.Fatalf("cpu table:\n%s\nwant %d lines", b.String(), len(want))
	}
	for i, l := range lines {
		if got := strings.Join(strings.Fields(l), " "); got != want[i] {
			t.Errorf("line %d = %q; want %q", i, got, want[i])
		}
	}
}

func TestSig3(t *testing.T) {
	cases := []struct {
		in   float64
		want string
	}{
		{0, "0"}, {1, "1.00"}, {1.2345, "1.23"}, {0.012345, "0.0123"}, {12.345, "12.3"},
		{123.45, "123"}, {1234.5, "1230"}, {9.996, "10.0"}, {99.96, "100"}, {0.0009996, "0.00100"},
	}
	for _, c := range cases {
		if got := sig3(c.in); got != c.want {
			t.Errorf("sig3(%g) = %q; want %q", c.in, got, c.want)
		}
	}
}
