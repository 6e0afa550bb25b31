package e2e

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cloudflix/cloudflix/internal/loadtest"
	"github.com/cloudflix/cloudflix/internal/testenv"
)

// TestLoadHarness runs `cloudflix loadtest` briefly against a real
// platform in one process with a few ready videos: every scenario must get
// answers and no errors, whatever its speed, and the JSON and SVG it
// writes must be whole.
func TestLoadHarness(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test")
	}
	t.Parallel()
	testenv.RequireFFmpeg(t)
	// The harness is one client standing for many: no rate per client,
	// or the router would answer most of it 429.
	pf, _ := startEmbedded(t, t.TempDir(), "CLOUDFLIX_HTTP_CLIENT_RATE=0")
	clip := filepath.Join(t.TempDir(), "load.mp4")
	testenv.GenerateClip(t, clip, 320, 240, 4, true)
	var ids []string
	for _, title := range []string{"Harbour lights at dusk", "Mountain river crossing", "Lighthouse keeper's morning"} {
		ids = append(ids, pf.upload(t, clip, title))
	}
	for _, id := range ids {
		if v, _ := pf.waitSettled(t, id, 3*time.Minute); v.State != "ready" {
			t.Fatalf("video %s ended %s: %s", id, v.State, v.FailureReason)
		}
	}

	dir := t.TempDir()
	jsonPath, svgPath := filepath.Join(dir, "load.json"), filepath.Join(dir, "load.svg")
	cmd := exec.Command(binary, "loadtest", "--server", pf.base, "--duration", "1s", "--connections", "8",
		"--queries", "500", "--json", jsonPath, "--svg", svgPath)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("cloudflix loadtest: %v\n%s\n%s", err, stdout.String(), stderr.String())
	}
	t.Logf("cloudflix loadtest:\n%s", stdout.String())

	b, err := os.ReadFile(jsonPath)
	if err != nil {
		t.Fatal(err)
	}
	var rep loadtest.Report
	if err := json.Unmarshal(b, &rep); err != nil {
		t.Fatalf("the JSON report: %v", err)
	}
	if rep.Ceiling.Requests == 0 || rep.Ceiling.Throughput <= 0 {
		t.Errorf("the ceiling got no answers: %+v", rep.Ceiling)
	}
	want := map[string]string{"video": "200", "list": "200", "search": "200", "suggest": "200", "segment": "206"}
	for _, res := range rep.Runs {
		code, ok := want[res.Endpoint]
		if !ok {
			t.Errorf("a run of an endpoint not asked for: %s", res.Endpoint)
			continue
		}
		delete(want, res.Endpoint)
		if res.Requests == 0 || res.Errors != 0 || res.Refused != 0 || res.Codes[code] != int(res.Requests) {
			t.Errorf("%s: %d requests, %d errors, %d refused, codes %v; want every answer %s",
				res.Endpoint, res.Requests, res.Errors, res.Refused, res.Codes, code)
		}
		if len(res.Series) == 0 || res.VsCeiling <= 0 {
			t.Errorf("%s: no latency series or ratio to the ceiling: %+v", res.Endpoint, res)
		}
	}
	if len(want) > 0 {
		t.Errorf("endpoints not measured: %v", want)
	}
	for _, res := range rep.Runs {
		if res.Endpoint == "search" && res.Distinct < 100 {
			t.Errorf("search cycled through %d distinct queries; three titles give hundreds", res.Distinct)
		}
	}
	checkSVG(t, svgPath)
}

// checkSVG parses an SVG file as XML and counts its lines of data.
func checkSVG(t *testing.T, path string) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	dec := xml.NewDecoder(f)
	lines := 0
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("the SVG is not well-formed XML: %v", err)
		}
		if el, ok := tok.(xml.StartElement); ok && strings.EqualFold(el.Name.Local, "polyline") {
			lines++
		}
	}
	// The ceiling and five endpoints, a median and a 99th percentile each.
	if lines != 12 {
		t.Errorf("the SVG draws %d lines, want 12", lines)
	}
}
