package loadtest

import (
	"fmt"
	"html"
	"io"
	"math"
	"strings"
)

// Chart layout, in SVG user units.
const (
	chartWidth  = 960
	chartHeight = 420
	marginLeft  = 70
	marginRight = 20
	marginTop   = 50
	marginBelow = 60
)

// endpointColors tell the scenarios apart; a second target of the same
// endpoint is drawn in the same color, its label naming it.
var endpointColors = map[string]string{
	"ceiling": "#555555",
	"video":   "#1f77b4",
	"list":    "#2ca02c",
	"search":  "#d62728",
	"suggest": "#9467bd",
	"segment": "#ff7f0e",
}

// WriteSVG draws the latency of every scenario over the run: the 99th
// percentile as a solid line and the median dashed, for each slice of
// time, on a logarithmic scale, the scenarios one after another as they
// ran.
func (r *Report) WriteSVG(w io.Writer) error {
	runs := append([]Result{r.Ceiling}, r.Runs...)
	end, lo, hi := 0.0, math.Inf(1), math.Inf(-1)
	for _, res := range runs {
		end = max(end, res.Offset+res.Seconds)
		for _, p := range res.Series {
			if p.P50 > 0 {
				lo = min(lo, p.P50)
			}
			hi = max(hi, p.P99)
		}
	}
	if math.IsInf(lo, 1) || hi <= 0 {
		lo, hi = 0.1, 1
	}
	// Whole decades, at least one.
	decLo, decHi := math.Floor(math.Log10(lo)), math.Ceil(math.Log10(hi))
	if decHi <= decLo {
		decHi = decLo + 1
	}
	end = max(end, 1)
	plotW, plotH := float64(chartWidth-marginLeft-marginRight), float64(chartHeight-marginTop-marginBelow)
	x := func(s float64) float64 { return marginLeft + s/end*plotW }
	y := func(ms float64) float64 {
		v := math.Log10(max(ms, math.Pow(10, decLo)))
		return marginTop + plotH - (v-decLo)/(decHi-decLo)*plotH
	}

	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="sans-serif" font-size="12">`+"\n",
		chartWidth, chartHeight, chartWidth, chartHeight)
	fmt.Fprintf(&b, `<rect width="100%%" height="100%%" fill="#ffffff"/>`+"\n")
	fmt.Fprintf(&b, `<text x="%d" y="20" font-size="14" font-weight="bold">%s</text>`+"\n", marginLeft,
		esc(fmt.Sprintf("Latency over the run, %s (%d CPUs, load %s)", r.Started.Format("2006-01-02 15:04 MST"), r.Machine.CPUs, orDash(r.Machine.Load))))
	for d := decLo; d <= decHi; d++ {
		yy := y(math.Pow(10, d))
		fmt.Fprintf(&b, `<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="#dddddd"/>`+"\n", marginLeft, yy, chartWidth-marginRight, yy)
		fmt.Fprintf(&b, `<text x="%d" y="%.1f" text-anchor="end">%s</text>`+"\n", marginLeft-6, yy+4, esc(decade(d)))
	}
	for s := 0.0; s <= end; s += tickStep(end) {
		fmt.Fprintf(&b, `<text x="%.1f" y="%d" text-anchor="middle">%gs</text>`+"\n", x(s), chartHeight-marginBelow+16, s)
	}
	fmt.Fprintf(&b, `<rect x="%d" y="%d" width="%.0f" height="%.0f" fill="none" stroke="#888888"/>`+"\n", marginLeft, marginTop, plotW, plotH)
	for i, res := range runs {
		color := endpointColors[res.Endpoint]
		x0 := x(res.Offset)
		fmt.Fprintf(&b, `<line x1="%.1f" y1="%d" x2="%.1f" y2="%.0f" stroke="#eeeeee"/>`+"\n", x0, marginTop, x0, marginTop+plotH)
		fmt.Fprintf(&b, `<text x="%.1f" y="%d" fill="%s">%s</text>`+"\n", x0+2, marginTop-6-12*(i%2), color, esc(res.label()))
		for _, line := range []struct {
			pick func(Point) float64
			dash string
		}{{func(p Point) float64 { return p.P99 }, ""}, {func(p Point) float64 { return p.P50 }, ` stroke-dasharray="4 3"`}} {
			var pts []string
			for _, p := range res.Series {
				pts = append(pts, fmt.Sprintf("%.1f,%.1f", x(p.At), y(line.pick(p))))
			}
			if len(pts) > 0 {
				fmt.Fprintf(&b, `<polyline points="%s" fill="none" stroke="%s" stroke-width="1.5"%s/>`+"\n", strings.Join(pts, " "), color, line.dash)
			}
		}
	}
	fmt.Fprintf(&b, `<text x="%d" y="%d">%s</text>`+"\n", marginLeft, chartHeight-16,
		esc(fmt.Sprintf("seconds from the start; solid: 99th percentile, dashed: median, of the requests sent in each %v; logarithmic scale", bucket)))
	b.WriteString("</svg>\n")
	_, err := io.WriteString(w, b.String())
	return err
}

// decade names 10^d milliseconds.
func decade(d float64) string {
	ms := math.Pow(10, d)
	switch {
	case ms >= 1000:
		return fmt.Sprintf("%g s", ms/1000)
	case ms >= 1:
		return fmt.Sprintf("%g ms", ms)
	default:
		return fmt.Sprintf("%g µs", math.Round(ms*1000))
	}
}

// tickStep is a round step for about ten ticks over end seconds.
func tickStep(end float64) float64 {
	for _, s := range []float64{1, 2, 5, 10, 20, 30, 60, 120, 300, 600} {
		if end/s <= 12 {
			return s
		}
	}
	return 1200
}

func esc(s string) string { return html.EscapeString(s) }
