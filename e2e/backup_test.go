package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cloudflix/cloudflix/internal/testenv"
)

// TestBackupRestoreEmbedded backs up a running embedded platform that has
// ready videos (one of them private) and one more upload being encoded,
// restores the copy into a new data folder, starts a platform on it and
// plays every video there, the one caught mid-encode included: its source
// was stored before the copied database said it was uploaded, so the
// restored platform encodes it.
func TestBackupRestoreEmbedded(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test")
	}
	testenv.RequireFFmpeg(t)
	clips := t.TempDir()
	landscape := filepath.Join(clips, "landscape.mp4")
	testenv.GenerateClip(t, landscape, 320, 240, 2, true)
	portrait := filepath.Join(clips, "portrait.mp4")
	testenv.GenerateClip(t, portrait, 180, 320, 2, false)
	busy := filepath.Join(clips, "busy.mp4")
	testenv.GenerateClip(t, busy, 640, 360, 6, true)

	dataDir := t.TempDir()
	pf, _ := startEmbedded(t, dataDir)
	harbour := pf.upload(t, landscape, "Backed-up harbour", "--tag", "backup")
	tower := pf.upload(t, portrait, "Backed-up tower", "--privacy", "private")
	ready := map[string]int{harbour: 240, tower: 320} // the largest side its renditions may have
	for id := range ready {
		if v, _ := pf.waitSettled(t, id, 3*time.Minute); v.State != "ready" {
			t.Fatalf("video %s ended %s: %s", id, v.State, v.FailureReason)
		}
	}
	encoding := pf.upload(t, busy, "Backed-up while encoding")

	backupDir := filepath.Join(t.TempDir(), "backup")
	out, err := cloudflix(dataDir, "backup", backupDir)
	if err != nil {
		t.Fatalf("cloudflix backup: %v\n%s", err, out)
	}
	t.Logf("%s(the third video was %s when the backup ended)", out, pf.video(t, encoding).State)

	restoreDir := t.TempDir()
	if out, err := cloudflix(restoreDir, "restore", backupDir); err != nil {
		t.Fatalf("cloudflix restore: %v\n%s", err, out)
	}
	// Once it holds data, the folder is not overwritten unless asked.
	if out, err := cloudflix(restoreDir, "restore", backupDir); err == nil || !strings.Contains(out, "--overwrite") {
		t.Fatalf("a second restore into the same folder: %v\n%s", err, out)
	}

	restored, _ := startEmbedded(t, restoreDir)
	for id, side := range ready {
		v := restored.video(t, id)
		if v.State != "ready" {
			t.Fatalf("restored video %s is %s", id, v.State)
		}
		checkPlayable(t, restored, v, side)
	}
	v, _ := restored.waitSettled(t, encoding, 4*time.Minute)
	if v.State != "ready" {
		t.Fatalf("the video encoding during the backup ended %s after the restore: %s", v.State, v.FailureReason)
	}
	checkPlayable(t, restored, v, 360)
	if ids := restored.search(t, "harbur"); !contains(ids, harbour) {
		t.Errorf("search in the restored platform does not find the public video: %v", ids)
	}
}

// cloudflix runs the binary with the data folder dataDir and returns its
// output.
func cloudflix(dataDir string, args ...string) (string, error) {
	cmd := exec.Command(binary, args...)
	cmd.Env = append(os.Environ(), "CLOUDFLIX_DATA_DIR="+dataDir)
	out, err := cmd.CombinedOutput()
	return string(out), err
}
