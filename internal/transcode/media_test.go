package transcode

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cloudflix/cloudflix/internal/testenv"
)

// Test media is generated once per test process and shared: the machine is
// small, and the clips are only ever read.
var (
	mediaMu  sync.Mutex
	mediaDir string
	media    = map[string]string{}
)

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "transcode-media-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	mediaDir = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// clip returns a generated MP4 clip (testenv.GenerateClip), made on first use.
func clip(t *testing.T, width, height int, seconds float64, audio bool) string {
	t.Helper()
	name := fmt.Sprintf("clip_%dx%d_%gs_audio%t.mp4", width, height, seconds, audio)
	return shared(t, name, func(path string) {
		testenv.GenerateClip(t, path, width, height, seconds, audio)
	})
}

// derived returns a file made from another with ffmpeg args (input and
// output paths are filled in), made on first use.
func derived(t *testing.T, name, from string, args ...string) string {
	t.Helper()
	return shared(t, name, func(path string) {
		generate(t, path, append([]string{"-i", from}, args...)...)
	})
}

func shared(t *testing.T, name string, create func(path string)) string {
	t.Helper()
	mediaMu.Lock()
	defer mediaMu.Unlock()
	if p, ok := media[name]; ok {
		return p
	}
	path := filepath.Join(mediaDir, name)
	create(path)
	media[name] = path
	return path
}

// probed returns what Probe says of a test clip, and the context for the
// test's work on it, which ends with the test or after two minutes.
func probed(t *testing.T, path string) (context.Context, Source) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	t.Cleanup(cancel)
	src, err := Options{}.Probe(ctx, path, Limits{})
	if err != nil {
		t.Fatalf("Probe %s: %v", path, err)
	}
	return ctx, src
}

// writeFile writes a test file of its own into the test's folder.
func writeFile(t *testing.T, name string, b []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// ffprobeCSV runs ffprobe with args and returns its non-empty output lines.
func ffprobeCSV(t testing.TB, args ...string) []string {
	t.Helper()
	out, err := exec.Command("ffprobe", append([]string{"-v", "error", "-of", "csv=p=0"}, args...)...).Output()
	if err != nil {
		t.Fatalf("ffprobe %v: %v", args, err)
	}
	var lines []string
	for _, l := range strings.Split(string(out), "\n") {
		if l = strings.TrimSpace(l); l != "" {
			lines = append(lines, l)
		}
	}
	return lines
}

// generate makes path with ffmpeg from args (inputs and output options).
func generate(t *testing.T, path string, args ...string) {
	t.Helper()
	full := append([]string{"-hide_banner", "-loglevel", "error", "-nostdin", "-y"}, args...)
	if out, err := exec.Command("ffmpeg", append(full, path)...).CombinedOutput(); err != nil {
		t.Fatalf("make %s: %v\n%s", filepath.Base(path), err, out)
	}
}
