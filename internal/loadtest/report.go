package loadtest

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

// Report is what a run measured.
type Report struct {
	Started     time.Time `json:"started"`
	Took        float64   `json:"took_seconds"`
	Machine     Machine   `json:"machine"`
	Connections int       `json:"connections"`
	Duration    float64   `json:"duration_seconds"` // of each scenario
	Ceiling     Result    `json:"ceiling"`
	Runs        []Result  `json:"runs"`
}

// Machine is where a run happened.
type Machine struct {
	CPUs int    `json:"cpus"`
	OS   string `json:"os"`
	Arch string `json:"arch"`
	Go   string `json:"go"`
	// Load is the load average over the last minute when the run began
	// (Linux), which says how busy the machine already was.
	Load string `json:"load_average,omitempty"`
}

// Result is one scenario on one target. Latencies are in milliseconds.
type Result struct {
	Endpoint    string  `json:"endpoint"`
	Target      string  `json:"target,omitempty"`
	Mode        string  `json:"mode"`                  // "max": full speed; "rate": a fixed rate
	Connections int     `json:"connections,omitempty"` // at full speed
	Rate        float64 `json:"rate,omitempty"`        // requests a second asked for, at a fixed rate
	Distinct    int     `json:"distinct_requests"`     // the requests cycled through
	Offset      float64 `json:"offset_seconds"`        // from the start of the run
	Seconds     float64 `json:"seconds"`
	Requests    uint64  `json:"requests"`
	// Throughput is answers that succeeded (2xx) a second.
	Throughput float64 `json:"throughput"`
	P50        float64 `json:"p50_ms"`
	P99        float64 `json:"p99_ms"`
	Max        float64 `json:"max_ms"`
	// OKP99 is the p99 of the answers that succeeded, RefusedP99 of the
	// refusals: under overload, what the platform admits must stay fast
	// and what it refuses must be refused at once.
	OKP99      float64 `json:"ok_p99_ms"`
	RefusedP99 float64 `json:"refused_p99_ms,omitempty"`
	// Errors are answers other than 2xx and requests that got no answer;
	// Refused are 429 and 503, the platform shedding load, counted apart.
	Errors       uint64         `json:"errors"`
	Refused      uint64         `json:"refused"`
	Codes        map[string]int `json:"status_codes"` // "none": no answer
	ErrorSamples []string       `json:"error_samples,omitempty"`
	VsCeiling    float64        `json:"vs_ceiling"` // throughput over the ceiling's
	// CPUSeconds is the CPU time the target's process spent during the
	// scenario (process_cpu_seconds_total on its /metrics), and
	// CPUPerRequest that per request in microseconds: on a shared
	// machine, the cost of a request that other work does not distort.
	// With every target in one process it is the whole platform's.
	CPUSeconds    float64 `json:"cpu_seconds,omitempty"`
	CPUPerRequest float64 `json:"cpu_us_per_request,omitempty"`
	Series        []Point `json:"series"`
}

// Point is the latency of the requests sent in one slice of time.
type Point struct {
	At  float64 `json:"at_seconds"` // from the start of the run
	P50 float64 `json:"p50_ms"`
	P99 float64 `json:"p99_ms"`
}

// Failed lists the scenarios that had errors.
func (r *Report) Failed() []string {
	var out []string
	for _, res := range append([]Result{r.Ceiling}, r.Runs...) {
		if res.Errors > 0 {
			out = append(out, fmt.Sprintf("%s: %d errors of %d requests (%s)", res.label(), res.Errors, res.Requests, strings.Join(res.ErrorSamples, "; ")))
		}
	}
	return out
}

func (res Result) label() string {
	if res.Target == "" {
		return res.Endpoint
	}
	return res.Endpoint + " on " + res.Target
}

// WriteTable writes the report as a table for people.
func (r *Report) WriteTable(w io.Writer) error {
	fmt.Fprintf(w, "%s, %d CPUs (%s/%s, %s), load average %s; %gs a scenario\n\n",
		r.Started.Format(time.RFC3339), r.Machine.CPUs, r.Machine.OS, r.Machine.Arch, r.Machine.Go, orDash(r.Machine.Load), r.Duration)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	withTarget := slices.ContainsFunc(r.Runs, func(res Result) bool { return res.Target != "" })
	head := "endpoint\t"
	if withTarget {
		head += "target\t"
	}
	fmt.Fprintln(tw, head+"mode\trequests\tok/s\tp50 ms\tp99 ms\tmax ms\tok p99\terrors\trefused\trefused p99\tstatus codes\tvs ceiling\tcpu µs/req\t")
	for _, res := range append([]Result{r.Ceiling}, r.Runs...) {
		line := res.Endpoint + "\t"
		if withTarget {
			line += orDash(res.Target) + "\t"
		}
		mode := fmt.Sprintf("%d conns", res.Connections)
		if res.Mode == "rate" {
			mode = fmt.Sprintf("%.0f/s", res.Rate)
		}
		cpu := "-"
		if res.CPUPerRequest > 0 {
			cpu = fmt.Sprintf("%.0f", res.CPUPerRequest)
		}
		refusedP99 := "-"
		if res.Refused > 0 {
			refusedP99 = fmt.Sprintf("%.2f", res.RefusedP99)
		}
		fmt.Fprintf(tw, "%s%s\t%d\t%.0f\t%.2f\t%.2f\t%.1f\t%.2f\t%d\t%d\t%s\t%s\t%.3f\t%s\t\n",
			line, mode, res.Requests, res.Throughput, res.P50, res.P99, res.Max, res.OKP99, res.Errors, res.Refused, refusedP99, codes(res.Codes), res.VsCeiling, cpu)
	}
	return tw.Flush()
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// codes is "200:1234 206:5" in the order of the codes.
func codes(m map[string]int) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		parts = append(parts, k+":"+strconv.Itoa(m[k]))
	}
	return strings.Join(parts, " ")
}

// WriteJSON writes the report as JSON.
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return ""
	}
	if f := strings.Fields(string(b)); len(f) > 0 {
		return f[0]
	}
	return ""
}
