package e2e

import (
	"bufio"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/cloudflix/cloudflix/internal/testenv"
)

// TestTelemetryMetricNames checks that every metric the dashboards and
// rules in monitor/ read is one the binary exports: a renamed metric would
// otherwise leave a dashboard empty and an alert silent without any error.
func TestTelemetryMetricNames(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test")
	}
	t.Parallel()
	testenv.RequireFFmpeg(t)
	used := monitoredMetricNames(t)
	pf := startSplit(t)
	exerciseEveryPath(t, pf)

	exported := map[string]bool{}
	for target, admin := range pf.admins {
		names := exportedMetricNames(t, admin)
		if len(names) == 0 {
			t.Fatalf("%s exports no metrics", target)
		}
		for n := range names {
			exported[n] = true
		}
	}
	// up is written by Prometheus itself for every scrape.
	fromPrometheus := map[string]bool{"up": true}
	var missing []string
	for _, n := range used {
		if !exported[n] && !fromPrometheus[n] {
			missing = append(missing, n)
		}
	}
	if len(missing) > 0 {
		t.Fatalf("monitor/ reads metrics that no process exports: %v", missing)
	}
	t.Logf("all %d metric names that monitor/ reads are exported", len(used))
}

// monitoredMetricNames asks monitorcheck, which parses PromQL with
// Prometheus's own parser in the promtool tool module, for the metric names
// that monitor/ reads.
func monitoredMetricNames(t *testing.T) []string {
	t.Helper()
	root := testenv.RepoRoot()
	cmd := exec.Command("go", "run", "./monitorcheck", "-names", filepath.Join(root, "monitor"))
	cmd.Dir = filepath.Join(root, "tools", "promtool")
	out, err := cmd.Output()
	if err != nil {
		var stderr []byte
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = ee.Stderr
		}
		t.Fatalf("monitorcheck -names: %v\n%s", err, stderr)
	}
	names := strings.Fields(string(out))
	if len(names) < 10 {
		t.Fatalf("monitorcheck found only %d metric names in monitor/: %v", len(names), names)
	}
	return names
}

// exerciseEveryPath drives the platform so that every labelled series the
// dashboards read exists: a clip uploaded to ready, a file that fails to
// encode, searches, suggestions, cached reads and a view.
func exerciseEveryPath(t *testing.T, pf *platform) {
	t.Helper()
	dir := t.TempDir()
	clip := filepath.Join(dir, "telemetry.mp4")
	testenv.GenerateClip(t, clip, 320, 240, 2, true)
	noise := filepath.Join(dir, "noise.mp4")
	junk := make([]byte, 64<<10)
	_, _ = rand.Read(junk)
	writeFile(t, noise, junk)

	goodID := pf.upload(t, clip, "Telemetry lighthouse")
	badID := pf.upload(t, noise, "Telemetry static")
	if v, _ := pf.waitSettled(t, goodID, 3*time.Minute); v.State != "ready" {
		t.Fatalf("clip ended %s: %s", v.State, v.FailureReason)
	}
	if v, _ := pf.waitSettled(t, badID, 2*time.Minute); v.State != "failed" {
		t.Fatalf("noise ended %s, want failed", v.State)
	}
	for range 2 {
		pf.search(t, "lighthouse")
		if code, body := pf.do(t, "GET", "/api/v1/search/suggest?q=tele", ""); code != http.StatusOK {
			t.Fatalf("suggest = %d %s", code, body)
		}
		pf.video(t, goodID)
	}
	if code, body := pf.do(t, "POST", "/api/v1/videos/"+goodID+"/views", ""); code != http.StatusNoContent {
		t.Fatalf("record view = %d %s", code, body)
	}
	if code, body := pf.do(t, "GET", "/api/v1/videos?limit=5", ""); code != http.StatusOK {
		t.Fatalf("list = %d %s", code, body)
	}
}

// exportedMetricNames returns the sample names a /metrics endpoint serves
// in the text format: histograms as NAME_bucket, NAME_sum and NAME_count,
// summaries as NAME, NAME_sum and NAME_count.
func exportedMetricNames(t *testing.T, admin string) map[string]bool {
	t.Helper()
	resp, err := http.Get(admin + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	names := map[string]bool{}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if i := strings.IndexAny(line, "{ "); i > 0 {
			names[line[:i]] = true
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatalf("read %s/metrics: %v", admin, err)
	}
	return names
}

// TestTelemetryTraces sends the platform's spans to a real Jaeger v2 and
// checks that one upload is one trace across processes: the router's HTTP
// span, the upload service's gRPC span, and the encode worker, which joins
// the trace through the outbox row's traceparent and the RabbitMQ message
// headers, with the database, object storage and cache calls beneath. The
// host service serves reads, which are requests of their own: it must show
// up in a router trace of its own, with its cache call.
func TestTelemetryTraces(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test")
	}
	t.Parallel()
	testenv.RequireFFmpeg(t)
	jaeger := startJaeger(t)
	pf := startSplitEnv(t, []string{"CLOUDFLIX_OTLP_ENDPOINT=" + jaeger.otlp})

	clip := filepath.Join(t.TempDir(), "traced.mp4")
	testenv.GenerateClip(t, clip, 320, 240, 2, true)
	// The CLI sends one trace context with every request of the upload and
	// of its waiting for the encode, and exports its own spans too.
	cmd := exec.Command(binary, "upload", "--quiet", "--wait", "--server", pf.base, "--title", "Traced harbour", clip)
	cmd.Env = append(os.Environ(), "XDG_CACHE_HOME="+t.TempDir(), "CLOUDFLIX_OTLP_ENDPOINT="+jaeger.otlp, "CLOUDFLIX_TOKEN="+pf.token)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("cloudflix upload --wait: %v\n%s", err, out)
	}

	tr := jaeger.waitTrace(t, "cloudflix-encode", time.Minute, func(tr jaegerTrace) string {
		return tr.lacks(
			[]string{"cloudflix-cli", "cloudflix-router", "cloudflix-upload", "cloudflix-encode", "cloudflix-host"},
			[]string{"postgres ", "s3 ", "redis ", "send ", "process "})
	})
	t.Logf("upload trace %s, %d spans:\n%s", tr.TraceID, len(tr.Spans), tr.summary())
	for _, svc := range []string{"cloudflix-upload", "cloudflix-encode", "cloudflix-host"} {
		if !tr.hasSpan(svc, "postgres ") && !tr.hasSpan(svc, "redis ") {
			t.Errorf("the trace has no storage call beneath %s", svc)
		}
	}
	if !tr.hasSpan("cloudflix-encode", "s3 ") {
		t.Errorf("the trace has no object storage call beneath the encode worker")
	}
}

// jaegerServer is a running Jaeger v2 with in-memory storage.
type jaegerServer struct {
	otlp  string // OTLP/gRPC receiver, host:port
	query string // query service base URL
}

// buildJaeger builds Jaeger from its own tool module, where its version
// is pinned, into dir. The first build on a machine takes minutes; the
// build cache makes later ones a link.
func buildJaeger(t *testing.T, dir string) string {
	t.Helper()
	bin := filepath.Join(dir, "jaeger")
	cmd := exec.Command("go", "build", "-modfile=tools/jaeger/go.mod", "-o", bin, "github.com/jaegertracing/jaeger/cmd/jaeger")
	cmd.Dir = testenv.RepoRoot()
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build jaeger: %v\n%s", err, out)
	}
	return bin
}

// jaegerConfig is Jaeger's all-in-one configuration cut down to what the
// test reads, on ports of its own: OTLP/gRPC in, memory storage, the query
// API out, and no self-telemetry listener.
const jaegerConfig = `service:
  extensions: [jaeger_storage, jaeger_query]
  pipelines:
    traces:
      receivers: [otlp]
      processors: [batch]
      exporters: [jaeger_storage_exporter]
  telemetry:
    metrics:
      level: none
    logs:
      level: warn
extensions:
  jaeger_query:
    storage:
      traces: memstore
    http:
      endpoint: %s
    grpc:
      endpoint: %s
  jaeger_storage:
    backends:
      memstore:
        memory:
          max_traces: 10000
receivers:
  otlp:
    protocols:
      grpc:
        endpoint: %s
processors:
  batch:
    timeout: 200ms
exporters:
  jaeger_storage_exporter:
    trace_storage: memstore
`

func startJaeger(t *testing.T) *jaegerServer {
	t.Helper()
	dir := t.TempDir()
	bin := buildJaeger(t, dir)
	j := &jaegerServer{otlp: freeAddr(t)}
	queryAddr := freeAddr(t)
	j.query = "http://" + queryAddr
	config := filepath.Join(dir, "jaeger.yaml")
	writeFile(t, config, fmt.Appendf(nil, jaegerConfig, queryAddr, freeAddr(t), j.otlp))

	cmd := exec.Command(bin, "--config", config)
	log := &lockedBuffer{}
	cmd.Stdout, cmd.Stderr = log, log
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start jaeger: %v", err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(15 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
		if t.Failed() {
			t.Logf("--- jaeger log ---\n%s", tail(log.String(), 40))
		}
	})
	for _, addr := range []string{j.otlp, queryAddr} {
		if err := testenv.WaitTCP(addr, 30*time.Second); err != nil {
			t.Fatalf("jaeger is not listening on %s: %v\n%s", addr, err, tail(log.String(), 40))
		}
	}
	return j
}

// jaegerTrace is a trace as Jaeger's query API returns it.
type jaegerTrace struct {
	TraceID string `json:"traceID"`
	Spans   []struct {
		SpanID        string `json:"spanID"`
		OperationName string `json:"operationName"`
		ProcessID     string `json:"processID"`
	} `json:"spans"`
	Processes map[string]struct {
		ServiceName string `json:"serviceName"`
	} `json:"processes"`
}

func (tr jaegerTrace) services() []string {
	set := map[string]bool{}
	for _, s := range tr.Spans {
		set[tr.Processes[s.ProcessID].ServiceName] = true
	}
	out := make([]string, 0, len(set))
	for s := range set {
		out = append(out, s)
	}
	sort.Strings(out)
	return out
}

// summary lists the distinct span names of each service, a line each.
func (tr jaegerTrace) summary() string {
	names := map[string]map[string]bool{}
	for _, s := range tr.Spans {
		svc := tr.Processes[s.ProcessID].ServiceName
		if names[svc] == nil {
			names[svc] = map[string]bool{}
		}
		names[svc][s.OperationName] = true
	}
	var b strings.Builder
	for _, svc := range tr.services() {
		ops := make([]string, 0, len(names[svc]))
		for op := range names[svc] {
			ops = append(ops, op)
		}
		sort.Strings(ops)
		fmt.Fprintf(&b, "  %s: %s\n", svc, strings.Join(ops, " | "))
	}
	return b.String()
}

// hasSpan tells whether service made a span of the trace whose name starts
// with prefix.
func (tr jaegerTrace) hasSpan(service, prefix string) bool {
	for _, s := range tr.Spans {
		if tr.Processes[s.ProcessID].ServiceName == service && strings.HasPrefix(s.OperationName, prefix) {
			return true
		}
	}
	return false
}

// lacks says what the trace is missing of the given services and span name
// prefixes, or "" when it has them all.
func (tr jaegerTrace) lacks(services, spanPrefixes []string) string {
	var missing []string
	have := tr.services()
	for _, s := range services {
		if !slices.Contains(have, s) {
			missing = append(missing, "service "+s)
		}
	}
	for _, p := range spanPrefixes {
		found := false
		for _, s := range tr.Spans {
			if strings.HasPrefix(s.OperationName, p) {
				found = true
				break
			}
		}
		if !found {
			missing = append(missing, fmt.Sprintf("a span named %q...", p))
		}
	}
	return strings.Join(missing, ", ")
}

// waitTrace polls Jaeger for the traces of service until one lacks nothing
// that check asks for, and fails the test with what the closest trace
// lacked when none does in time. Spans arrive in batches from several
// processes, so a trace grows while it is polled.
func (j *jaegerServer) waitTrace(t *testing.T, service string, within time.Duration, check func(jaegerTrace) string) jaegerTrace {
	t.Helper()
	q := url.Values{"service": {service}, "limit": {"100"}, "lookback": {"1h"}}
	deadline := time.Now().Add(within)
	var last string
	for {
		traces, err := j.traces(q)
		if err != nil {
			last = err.Error()
		} else {
			last = fmt.Sprintf("no trace of %s yet", service)
			best := -1
			for _, tr := range traces {
				lacking := check(tr)
				if lacking == "" {
					return tr
				}
				if n := len(tr.Spans); n > best {
					best, last = n, fmt.Sprintf("trace %s (services %v, %d spans) lacks %s", tr.TraceID, tr.services(), n, lacking)
				}
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no trace of %s within %v holds what it should: %s", service, within, last)
		}
		time.Sleep(500 * time.Millisecond)
	}
}

func (j *jaegerServer) traces(q url.Values) ([]jaegerTrace, error) {
	resp, err := http.Get(j.query + "/api/traces?" + q.Encode())
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("jaeger /api/traces = %d %s", resp.StatusCode, body)
	}
	var r struct {
		Data []jaegerTrace `json:"data"`
	}
	if err := json.Unmarshal(body, &r); err != nil {
		return nil, fmt.Errorf("jaeger /api/traces: %w", err)
	}
	return r.Data, nil
}
