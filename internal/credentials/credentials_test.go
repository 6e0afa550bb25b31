package credentials

import (
	"os"
	"path/filepath"
	"testing"
)

func TestSaveReadForget(t *testing.T) {
	path := filepath.Join(t.TempDir(), "cloudflix", "credentials.json")
	if _, ok, err := For(path, "http://localhost:8080"); ok || err != nil {
		t.Fatalf("no file: %v, %v", ok, err)
	}
	if err := Save(path, "http://LocalHost:8080/", Login{Username: "ada", Token: "cft_x"}); err != nil {
		t.Fatal(err)
	}
	if err := Save(path, "https://videos.example", Login{Username: "grace", Token: "cft_y"}); err != nil {
		t.Fatal(err)
	}
	l, ok, err := For(path, "http://localhost:8080")
	if err != nil || !ok || l.Token != "cft_x" || l.Username != "ada" {
		t.Fatalf("For = %+v, %v, %v", l, ok, err)
	}
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("file mode %v, %v; want 0600", fi.Mode(), err)
	}
	if di, _ := os.Stat(filepath.Dir(path)); di.Mode().Perm() != 0o700 {
		t.Fatalf("folder mode %v; want 0700", di.Mode())
	}
	if err := Forget(path, "http://localhost:8080"); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := For(path, "http://localhost:8080"); ok {
		t.Fatal("forgotten login still there")
	}
	if l, ok, _ := For(path, "https://videos.example/"); !ok || l.Token != "cft_y" {
		t.Fatal("the other server's login went with it")
	}
}
