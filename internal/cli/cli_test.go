package cli

import (
	"bytes"
	"context"
	"os"
	"strings"
	"testing"

	"github.com/cloudflix/cloudflix/internal/config"
)

func TestParseTargets(t *testing.T) {
	cases := map[string]string{
		"all":                 "router,upload,host,search,encode,account",
		"encode":              "encode",
		"router, host,router": "router,host",
	}
	for in, want := range cases {
		got, err := ParseTargets(in)
		if err != nil || strings.Join(got, ",") != want {
			t.Errorf("ParseTargets(%q) = %v, %v; want %s", in, got, err, want)
		}
	}
	if _, err := ParseTargets("router,transcoder"); err == nil || ExitCode(err) != 2 || !strings.Contains(err.Error(), "transcoder") {
		t.Errorf("unknown target: %v", err)
	}
}

func run(t *testing.T, env map[string]string, args ...string) (string, string, error) {
	t.Helper()
	for k, v := range env {
		t.Setenv(k, v)
	}
	var stdout, stderr bytes.Buffer
	err := Run(context.Background(), args, &stdout, &stderr)
	return stdout.String(), stderr.String(), err
}

func TestUsageErrors(t *testing.T) {
	for _, args := range [][]string{
		{},
		{"transcode"},
		{"serve", "--target=nope"},
		{"serve", "--port=1"},
		{"upload", "--title", "x"},
		{"upload", "a.mp4"},
		{"backup"},
		{"restore", "a", "--overwrite"},
		{"loadtest", "--rate", "fast"},
		{"loadtest", "--endpoints", "upload"},
		{"loadtest", "--duration", "1h"},
		{"loadtest", "--server", "a=http://127.0.0.1:1", "--server", "http://127.0.0.1:2"},
	} {
		if _, _, err := run(t, nil, args...); err == nil || ExitCode(err) != 2 {
			t.Errorf("cloudflix %v: %v, want a usage error", args, err)
		}
	}
}

// In-process backends keep their data in one process, so a target alone
// cannot use them; the refusal comes before anything starts.
func TestServeRefusesSplitTargetsOnEmbeddedBackends(t *testing.T) {
	_, _, err := run(t, map[string]string{"CLOUDFLIX_DATA_DIR": t.TempDir()}, "serve", "--target=encode")
	if err == nil || ExitCode(err) != 2 || !strings.Contains(err.Error(), "CLOUDFLIX_QUEUE=memory") {
		t.Fatalf("serve --target=encode on embedded backends: %v", err)
	}
}

// On a production backend the install may span processes, so one process
// may not make up an internal key of its own; the refusal names it.
func TestServeOnProductionBackendsNeedsTheInternalKey(t *testing.T) {
	_, _, err := run(t, map[string]string{"CLOUDFLIX_DATA_DIR": t.TempDir(), "CLOUDFLIX_CACHE": "redis", "CLOUDFLIX_INTERNAL_KEY": ""}, "serve")
	if err == nil || ExitCode(err) != 2 || !strings.Contains(err.Error(), "CLOUDFLIX_INTERNAL_KEY") {
		t.Fatalf("serve on redis without an internal key: %v", err)
	}
}

func TestEnvListsEveryVariableWithSecretsHidden(t *testing.T) {
	out, _, err := run(t, nil, "env")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"CLOUDFLIX_METADATA=sqlite", "CLOUDFLIX_HTTP_ADDR=:8080", "CLOUDFLIX_ENCODE_WORKERS=1", "CLOUDFLIX_UPLOAD_MAX_BYTES=", "CLOUDFLIX_SIGNUP=open", "CLOUDFLIX_OIDC_ISSUER="} {
		if !strings.Contains(out, name) {
			t.Errorf("env does not list %s", name)
		}
	}
	if strings.Contains(out, "cloudflix-secret") || strings.Contains(out, "guest:guest") {
		t.Errorf("env shows a default secret:\n%s", out)
	}
}

func TestVersion(t *testing.T) {
	out, _, err := run(t, nil, "version")
	if err != nil || !strings.HasPrefix(out, "cloudflix ") {
		t.Fatalf("version = %q, %v", out, err)
	}
}

func TestSiteURL(t *testing.T) {
	for _, c := range []struct {
		rc   config.Router
		want string
	}{
		{config.Router{HTTPAddr: ":8080"}, "http://localhost:8080"},
		{config.Router{HTTPAddr: "0.0.0.0:8080"}, "http://localhost:8080"},
		{config.Router{HTTPAddr: "[::]:80"}, "http://localhost:80"},
		{config.Router{HTTPAddr: "127.0.0.1:9000"}, "http://127.0.0.1:9000"},
		{config.Router{HTTPAddr: ":8080", PublicURL: "https://videos.example.org/"}, "https://videos.example.org"},
	} {
		if got := siteURL(c.rc); got != c.want {
			t.Errorf("siteURL(%+v) = %q, want %q", c.rc, got, c.want)
		}
	}
}

// The load harness aims at loopback only, unless told otherwise, and says
// so before it sends anything.
func TestLoadTestRefusesARemoteServer(t *testing.T) {
	_, _, err := run(t, nil, "loadtest", "--server", "http://192.0.2.10:8080", "--duration", "1s")
	if err == nil || !strings.Contains(err.Error(), "--allow-remote") {
		t.Fatalf("loadtest on a remote server: %v", err)
	}
}

// The README's table of variables has a row for every variable env lists,
// with its default and its description, and no row for one it does not.
func TestReadmeListsEveryVariable(t *testing.T) {
	out, _, err := run(t, nil, "env")
	if err != nil {
		t.Fatal(err)
	}
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	listed := map[string]bool{}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	for i := 0; i+1 < len(lines); i += 2 {
		name, def, ok := strings.Cut(lines[i], "=")
		help := strings.TrimPrefix(lines[i+1], "\t")
		if !ok || !strings.HasPrefix(name, "CLOUDFLIX_") || help == lines[i+1] {
			t.Fatalf("env printed %q, %q: want NAME=default, then a tab and its description", lines[i], lines[i+1])
		}
		listed[name] = true
		cell := ""
		if def != "" {
			cell = "`" + def + "`"
		}
		if row := "| `" + name + "` | " + cell + " | " + help + " |"; !strings.Contains(string(readme), row+"\n") {
			t.Errorf("the README has no row\n%s", row)
		}
	}
	for _, line := range strings.Split(string(readme), "\n") {
		if name, ok := strings.CutPrefix(line, "| `CLOUDFLIX_"); ok {
			name = "CLOUDFLIX_" + name[:strings.Index(name, "`")]
			if !listed[name] {
				t.Errorf("the README lists %s, which env does not", name)
			}
		}
	}
}
