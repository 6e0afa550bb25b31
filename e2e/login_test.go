package e2e

import (
	"bytes"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cloudflix/cloudflix/internal/testenv"
)

// checkLogin signs the command line in with a password, as a person does
// once per machine, and uploads with the token it kept: no password or
// token on the command line, the file readable by its owner alone, and the
// video theirs. Without a kept token, upload says how to sign in.
func checkLogin(t *testing.T, pf *platform) {
	t.Helper()
	name := testenv.Name("cli")
	pf.newUser(t, name)
	config := t.TempDir()
	login := exec.Command(binary, "login", "--server", pf.base, "--username", name, "--password-stdin")
	login.Env = append(os.Environ(), "XDG_CONFIG_HOME="+config)
	login.Stdin = strings.NewReader("password of " + name + "\n")
	if out, err := login.CombinedOutput(); err != nil {
		t.Fatalf("cloudflix login: %v\n%s", err, out)
	}
	file := filepath.Join(config, "cloudflix", "credentials.json")
	fi, err := os.Stat(file)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("credentials file: %v, %v; want mode 0600", fi, err)
	}
	b, _ := os.ReadFile(file)
	if bytes.Contains(b, []byte("password")) || !bytes.Contains(b, []byte("cft_")) {
		t.Fatalf("credentials file holds %s", b)
	}

	clip := filepath.Join(t.TempDir(), "cli.mp4")
	testenv.GenerateClip(t, clip, 160, 120, 1, false)
	up := exec.Command(binary, "upload", "--quiet", "--server", pf.base, "--title", "Signed in from the CLI", clip)
	up.Env = append(withoutToken(os.Environ()), "XDG_CONFIG_HOME="+config, "XDG_CACHE_HOME="+t.TempDir())
	out, err := up.Output()
	if err != nil {
		t.Fatalf("cloudflix upload with the kept token: %v", err)
	}
	id := strings.TrimSpace(string(out))
	code, body := pf.do(t, "GET", "/api/v1/videos/"+id, "")
	var v struct {
		Owner struct {
			Username string `json:"username"`
		} `json:"owner"`
	}
	if err := json.Unmarshal(body, &v); code != http.StatusOK || err != nil || v.Owner.Username != name {
		t.Fatalf("the uploaded video = %d %s; want %s's", code, body, name)
	}

	anon := exec.Command(binary, "upload", "--server", pf.base, "--title", "Nobody", clip)
	anon.Env = append(withoutToken(os.Environ()), "XDG_CONFIG_HOME="+t.TempDir(), "XDG_CACHE_HOME="+t.TempDir())
	out, err = anon.CombinedOutput()
	if exit, ok := err.(*exec.ExitError); !ok || exit.ExitCode() != 2 || !strings.Contains(string(out), "cloudflix login --server") {
		t.Fatalf("an upload without a token: %v\n%s; want exit 2 saying how to sign in", err, out)
	}
}

func withoutToken(env []string) []string {
	var out []string
	for _, e := range env {
		if !strings.HasPrefix(e, "CLOUDFLIX_TOKEN=") {
			out = append(out, e)
		}
	}
	return out
}
