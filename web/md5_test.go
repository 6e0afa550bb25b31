package web_test

import (
	"crypto/md5"
	"encoding/base64"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cloudflix/cloudflix/web"
)

// The upload page's MD5 agrees with Go's on lengths around every block
// and padding boundary, fed whole and in uneven pieces. Node runs the
// module as the browser would, from the embedded file.
func TestContentMD5(t *testing.T) {
	t.Parallel()
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node is not installed (make test needs it for check-vendor)")
	}
	dir := t.TempDir()
	src := get(t, web.Handler(), "/static/js/md5.js").Body.Bytes()
	if err := os.WriteFile(filepath.Join(dir, "md5.mjs"), src, 0o644); err != nil {
		t.Fatal(err)
	}
	sizes := []int{0, 1, 3, 55, 56, 57, 63, 64, 65, 119, 120, 121, 127, 128, 1000, 65536, 1<<20 + 7}
	script := `
import { MD5, contentMD5 } from "./md5.mjs";
const sizes = ` + mustJSON(t, sizes) + `;
const out = [];
for (const n of sizes) {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = (i * 131 + 7) & 255;
  const whole = await contentMD5(new Blob([b]));
  const h = new MD5();
  for (let i = 0; i < n; ) { const k = Math.min(n - i, 1 + (i % 97)); h.update(b.subarray(i, i + k)); i += k; }
  out.push([whole, Buffer.from(h.digest()).toString("base64")]);
}
console.log(JSON.stringify(out));
`
	if err := os.WriteFile(filepath.Join(dir, "check.mjs"), []byte(script), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.CommandContext(t.Context(), node, "check.mjs")
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("node: %v\n%s", err, out)
	}
	var got [][2]string
	if err := json.Unmarshal([]byte(strings.TrimSpace(string(out))), &got); err != nil {
		t.Fatalf("node printed %q: %v", out, err)
	}
	for i, n := range sizes {
		b := make([]byte, n)
		for j := range b {
			b[j] = byte(j*131 + 7)
		}
		sum := md5.Sum(b)
		want := base64.StdEncoding.EncodeToString(sum[:])
		if got[i][0] != want || got[i][1] != want {
			t.Errorf("MD5 of %d bytes: whole %s, in pieces %s; want %s", n, got[i][0], got[i][1], want)
		}
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
