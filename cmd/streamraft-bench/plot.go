package main

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"math"
	"strings"
)

// The SVG has two panels sharing the time axis: throughput per second on
// top, latency percentiles per second (log scale) below, with a legend on
// the right. Every run (a Result) has one colour; the latency panel draws
// its p50 solid, p99 dashed and p99.9 dotted.
const (
	svgWidth     = 1000
	svgHeight    = 760
	plotLeft     = 80
	plotRight    = 740 // the legend is to the right of this
	panelHeight  = 270
	topPanelTop  = 60
	lowPanelTop  = topPanelTop + panelHeight + 80
	legendLeft   = plotRight + 20
	targetXTicks = 8
	targetYTicks = 5
)

// palette gives each run a colour (Tableau 10, readable on white).
var palette = []string{"#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac"}

// percentileLines are the latency series drawn per run.
var percentileLines = []struct {
	name  string
	dash  string
	value func(Point) float64
}{
	{"p50", "", func(p Point) float64 { return p.P50ms }},
	{"p99", "8 4", func(p Point) float64 { return p.P99ms }},
	{"p99.9", "2 3", func(p Point) float64 { return p.P999ms }},
}

// panel maps data to pixels for one panel.
type panel struct {
	top          float64
	x0, x1       float64 // seconds
	y0, y1       float64 // ops/s, or log10(ms) when logY
	logY         bool
	xTicks       []float64
	yTicks       []float64 // data values (ms when logY)
	yLabel, name string
}

func (p panel) px(x float64) float64 {
	return plotLeft + (x-p.x0)/(p.x1-p.x0)*(plotRight-plotLeft)
}

func (p panel) py(y float64) float64 {
	if p.logY {
		y = math.Log10(y)
	}
	return p.top + panelHeight - (y-p.y0)/(p.y1-p.y0)*panelHeight
}

// writeSVG draws every result's timeline.
func writeSVG(w io.Writer, results []Result) error {
	var b bytes.Buffer
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="sans-serif" font-size="12">`+"\n",
		svgWidth, svgHeight, svgWidth, svgHeight)
	fmt.Fprintf(&b, `<rect width="%d" height="%d" fill="white"/>`+"\n", svgWidth, svgHeight)
	fmt.Fprintf(&b, `<text x="%d" y="30" font-size="18" font-weight="bold">%s</text>`+"\n", plotLeft, esc(plotTitle(results)))
	xMax := maxSecond(results)
	top := throughputPanel(results, xMax)
	low := latencyPanel(results, xMax)
	for _, p := range []panel{top, low} {
		drawAxes(&b, p)
	}
	for i, r := range results {
		color := palette[i%len(palette)]
		drawLine(&b, top, r, color, "", "throughput", func(p Point) float64 { return p.OpsPerSec })
		for _, pl := range percentileLines {
			drawLine(&b, low, r, color, pl.dash, pl.name, pl.value)
		}
	}
	drawLegend(&b, results)
	b.WriteString("</svg>\n")
	_, err := w.Write(b.Bytes())
	return err
}

// plotTitle names the workloads and targets plotted.
func plotTitle(results []Result) string {
	var workloads, targets []string
	seen := map[string]bool{}
	for _, r := range results {
		if !seen["w"+r.Workload] {
			seen["w"+r.Workload] = true
			workloads = append(workloads, r.Workload)
		}
		if !seen["t"+r.Target.Label] {
			seen["t"+r.Target.Label] = true
			targets = append(targets, r.Target.Label)
		}
	}
	return fmt.Sprintf("streamraft-bench: %s on %s", strings.Join(workloads, ", "), strings.Join(targets, " vs "))
}

func maxSecond(results []Result) float64 {
	x := 1.0
	for _, r := range results {
		for _, p := range r.Timeline {
			x = max(x, p.Second)
		}
	}
	return x
}

// throughputPanel scales ops/s from 0 to a round value above the maximum.
func throughputPanel(results []Result, xMax float64) panel {
	yMax := 0.0
	for _, r := range results {
		for _, p := range r.Timeline {
			yMax = max(yMax, p.OpsPerSec)
		}
	}
	step := niceStep(max(yMax, 1), targetYTicks)
	yTop := math.Ceil(max(yMax, 1)/step) * step
	return panel{top: topPanelTop, x0: 0, x1: xMax, y0: 0, y1: yTop,
		xTicks: linearTicks(0, xMax, niceStep(xMax, targetXTicks)), yTicks: linearTicks(0, yTop, step),
		yLabel: "ops/s", name: "Throughput per second"}
}

// latencyPanel scales latency in ms logarithmically over whole decades.
func latencyPanel(results []Result, xMax float64) panel {
	lo, hi := math.Inf(1), 0.0
	for _, r := range results {
		for _, p := range r.Timeline {
			for _, pl := range percentileLines {
				if v := pl.value(p); v > 0 {
					lo, hi = min(lo, v), max(hi, v)
				}
			}
		}
	}
	if hi == 0 {
		lo, hi = 0.1, 10
	}
	d0, d1 := math.Floor(math.Log10(lo)), math.Ceil(math.Log10(hi))
	if d1 <= d0 {
		d1 = d0 + 1
	}
	return panel{top: lowPanelTop, x0: 0, x1: xMax, y0: d0, y1: d1, logY: true,
		xTicks: linearTicks(0, xMax, niceStep(xMax, targetXTicks)), yTicks: logTicks(d0, d1),
		yLabel: "latency (ms, log scale)", name: "Latency per second: p50 (solid), p99 (dashed), p99.9 (dotted)"}
}

// drawAxes draws the frame, grid, ticks, tick labels and axis titles.
func drawAxes(b *bytes.Buffer, p panel) {
	bottom := p.top + panelHeight
	fmt.Fprintf(b, `<text x="%d" y="%.1f" font-size="14">%s</text>`+"\n", plotLeft, p.top-10, esc(p.name))
	fmt.Fprintf(b, `<rect x="%d" y="%.1f" width="%d" height="%d" fill="none" stroke="#333"/>`+"\n",
		plotLeft, p.top, plotRight-plotLeft, panelHeight)
	for _, x := range p.xTicks {
		fmt.Fprintf(b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#ddd"/>`+"\n", p.px(x), p.top, p.px(x), bottom)
		fmt.Fprintf(b, `<text x="%.1f" y="%.1f" text-anchor="middle">%s</text>`+"\n", p.px(x), bottom+16, tickNum(x))
	}
	for _, y := range p.yTicks {
		fmt.Fprintf(b, `<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="#ddd"/>`+"\n", plotLeft, p.py(y), plotRight, p.py(y))
		fmt.Fprintf(b, `<text x="%d" y="%.1f" text-anchor="end">%s</text>`+"\n", plotLeft-6, p.py(y)+4, tickLabel(y, p.logY))
	}
	fmt.Fprintf(b, `<text x="%d" y="%.1f" text-anchor="middle">time (s)</text>`+"\n", (plotLeft+plotRight)/2, bottom+34)
	fmt.Fprintf(b, `<text transform="translate(18 %.1f) rotate(-90)" text-anchor="middle">%s</text>`+"\n",
		p.top+panelHeight/2, esc(p.yLabel))
}

// drawLine draws one series as a polyline; seconds without a value (no
// sample that second) are left out.
func drawLine(b *bytes.Buffer, p panel, r Result, color, dash, kind string, value func(Point) float64) {
	var pts []string
	for _, pt := range r.Timeline {
		v := value(pt)
		if p.logY && v <= 0 {
			continue
		}
		pts = append(pts, fmt.Sprintf("%.1f,%.1f", p.px(pt.Second), p.py(v)))
	}
	dashAttr := ""
	if dash != "" {
		dashAttr = fmt.Sprintf(` stroke-dasharray="%s"`, dash)
	}
	fmt.Fprintf(b, `<polyline data-series="%s" data-kind="%s" fill="none" stroke="%s" stroke-width="1.8"%s points="%s"/>`+"\n",
		esc(seriesName(r)), kind, color, dashAttr, strings.Join(pts, " "))
}

// drawLegend lists each run's colour, then the latency line styles.
func drawLegend(b *bytes.Buffer, results []Result) {
	y := float64(topPanelTop)
	fmt.Fprintf(b, `<text x="%d" y="%.1f" font-weight="bold">runs</text>`+"\n", legendLeft, y)
	for i, r := range results {
		y += 20
		fmt.Fprintf(b, `<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="%s" stroke-width="3"/>`+"\n",
			legendLeft, y-4, legendLeft+24, y-4, palette[i%len(palette)])
		fmt.Fprintf(b, `<text x="%d" y="%.1f">%s</text>`+"\n", legendLeft+30, y, esc(seriesName(r)))
	}
	y = lowPanelTop
	fmt.Fprintf(b, `<text x="%d" y="%.1f" font-weight="bold">latency</text>`+"\n", legendLeft, y)
	for _, pl := range percentileLines {
		y += 20
		fmt.Fprintf(b, `<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="#333" stroke-width="1.8" stroke-dasharray="%s"/>`+"\n",
			legendLeft, y-4, legendLeft+24, y-4, pl.dash)
		fmt.Fprintf(b, `<text x="%d" y="%.1f">%s</text>`+"\n", legendLeft+30, y, pl.name)
	}
}

// seriesName is how a run is named in the legend.
func seriesName(r Result) string { return r.Target.Label + " " + r.Workload }

// niceStep returns a 1, 2 or 5 times a power of ten step that splits span
// into about n intervals.
func niceStep(span float64, n int) float64 {
	raw := span / float64(n)
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	switch norm := raw / mag; {
	case norm < 1.5:
		return mag
	case norm < 3:
		return 2 * mag
	case norm < 7:
		return 5 * mag
	}
	return 10 * mag
}

// linearTicks returns the multiples of step from lo to hi.
func linearTicks(lo, hi, step float64) []float64 {
	var out []float64
	for i := math.Ceil(lo / step); i*step <= hi*(1+1e-9); i++ {
		out = append(out, i*step)
	}
	return out
}

// logTicks returns 1, 2 and 5 times each power of ten from 10^d0 to 10^d1.
func logTicks(d0, d1 float64) []float64 {
	var out []float64
	for d := d0; d <= d1; d++ {
		for _, m := range []float64{1, 2, 5} {
			if v := m * math.Pow(10, d); math.Log10(v) <= d1+1e-9 {
				out = append(out, v)
			}
		}
	}
	return out
}

// tickLabel formats a y tick: latencies with 3 significant digits, rates
// with a k or M suffix.
func tickLabel(v float64, latency bool) string {
	switch {
	case latency:
		return tickNum(v)
	case v >= 1e6:
		return tickNum(v/1e6) + "M"
	case v >= 1e3:
		return tickNum(v/1e3) + "k"
	}
	return tickNum(v)
}

// tickNum is sig3 without trailing zeros after the point: 0.5, 2, 12.5.
func tickNum(v float64) string {
	s := sig3(v)
	if strings.Contains(s, ".") {
		s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	}
	return s
}

// esc escapes text for an SVG text node or attribute.
func esc(s string) string {
	var b strings.Builder
	_ = xml.EscapeText(&b, []byte(s)) // a strings.Builder never fails
	return b.String()
}
