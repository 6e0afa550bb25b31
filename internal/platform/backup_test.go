package platform

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/cloudflix/cloudflix/internal/video"
)

// TestBackupOfARunningInstall copies an install while a writer keeps
// adding videos and their sources, and restores the copy: every video the
// writer had finished before the backup began is back with its source,
// and every video of the copy has its source (the database is copied
// before storage).
func TestBackupOfARunningInstall(t *testing.T) {
	cfg := embedded(t)
	p, err := NewProcess(prometheus.NewRegistry(), time.Second, cfg, testKey)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	ctx := t.Context()
	st, err := p.Store(ctx)
	if err != nil {
		t.Fatal(err)
	}
	objects, _, err := p.Objects(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// A video is stored as an upload completes: its source first, then
	// the row.
	add := func() (string, error) {
		id := uuid.NewString()
		body := "source of " + id
		if err := objects.Put(ctx, video.SourceKey(id), strings.NewReader(body), int64(len(body)), "video/mp4"); err != nil {
			return "", err
		}
		v := video.Video{ID: id, Title: "Backed up " + id[:8], SizeBytes: int64(len(body)), ContentType: "video/mp4"}
		u := video.UploadSession{VideoID: id, UploadID: "upload-" + id, ObjectKey: video.SourceKey(id), SizeBytes: v.SizeBytes, PartSize: 5 << 20, ExpiresAt: time.Now().Add(time.Hour).Truncate(time.Second)}
		return id, st.CreateVideo(ctx, v, u)
	}
	var before []string
	for range 20 {
		id, err := add()
		if err != nil {
			t.Fatal(err)
		}
		before = append(before, id)
	}

	stop := make(chan struct{})
	var (
		wg     sync.WaitGroup
		during []string
		werr   error
	)
	wg.Go(func() {
		for {
			select {
			case <-stop:
				return
			default:
			}
			id, err := add()
			if err != nil {
				werr = err
				return
			}
			during = append(during, id)
		}
	})
	backupDir := filepath.Join(t.TempDir(), "backup")
	sum, err := Backup(ctx, cfg, backupDir, "test")
	close(stop)
	wg.Wait()
	if err != nil {
		t.Fatalf("backup: %v", err)
	}
	if werr != nil {
		t.Fatalf("writing while the backup ran: %v", werr)
	}
	if sum.Objects < int64(len(before)) {
		t.Errorf("backup copied %d files, want at least the %d sources", sum.Objects, len(before))
	}
	if _, err := Backup(ctx, cfg, backupDir, "test"); err == nil || !strings.Contains(err.Error(), "not empty") {
		t.Errorf("a second backup into the same folder: %v", err)
	}

	restored := embedded(t)
	if err := Restore(ctx, restored, backupDir, false); err != nil {
		t.Fatalf("restore: %v", err)
	}
	q, err := NewProcess(prometheus.NewRegistry(), time.Second, restored, testKey)
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	rst, err := q.Store(ctx)
	if err != nil {
		t.Fatal(err)
	}
	robjects, _, err := q.Objects(ctx)
	if err != nil {
		t.Fatal(err)
	}
	source := func(id string) string {
		o, err := robjects.Open(ctx, video.SourceKey(id))
		if err != nil {
			return err.Error()
		}
		defer o.Close()
		b, _ := io.ReadAll(o)
		return string(b)
	}
	for _, id := range before {
		if _, err := rst.Video(ctx, id); err != nil {
			t.Errorf("video %s, stored before the backup, is not in the copy: %v", id, err)
		}
		if got := source(id); got != "source of "+id {
			t.Errorf("source of %s in the copy: %q", id, got)
		}
		was, err := objects.Stat(ctx, video.SourceKey(id))
		if err != nil {
			t.Fatal(err)
		}
		if is, err := robjects.Stat(ctx, video.SourceKey(id)); err != nil || is != was {
			t.Errorf("source of %s: %+v in the copy, %+v in the install (%v)", id, is, was, err)
		}
	}
	var inCopy int
	for _, id := range during {
		if _, err := rst.Video(ctx, id); err != nil {
			continue // stored after the database was copied
		}
		inCopy++
		if got := source(id); got != "source of "+id {
			t.Errorf("video %s is in the copy without its source: %q", id, got)
		}
	}
	t.Logf("%d videos written during the backup, %d of them in the copy; %d files, %d bytes", len(during), inCopy, sum.Objects, sum.Bytes)
}

func TestRestoreRefusals(t *testing.T) {
	ctx := t.Context()
	cfg := embedded(t)
	backupDir := filepath.Join(t.TempDir(), "backup")
	if _, err := Backup(ctx, cfg, backupDir, "test"); err == nil || !strings.Contains(err.Error(), "no such file") {
		t.Fatalf("backup of a data folder without a database: %v", err)
	}
	p, err := NewProcess(prometheus.NewRegistry(), time.Second, cfg, testKey)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Store(ctx); err != nil {
		t.Fatal(err)
	}
	os.RemoveAll(backupDir)
	if _, err := Backup(ctx, cfg, backupDir, "test"); err != nil {
		t.Fatal(err)
	}

	// Not a backup, or one cut short: no manifest.
	if err := Restore(ctx, embedded(t), t.TempDir(), false); err == nil || !strings.Contains(err.Error(), "not a finished CloudFlix backup") {
		t.Errorf("restore of an empty folder: %v", err)
	}
	// A data folder in use, or holding data, is left alone.
	if err := Restore(ctx, cfg, backupDir, true); err == nil || !strings.Contains(err.Error(), "another cloudflix process") {
		t.Errorf("restore over a running install: %v", err)
	}
	p.Close()
	target := embedded(t)
	keep := filepath.Join(target.DataDir, "notes.txt")
	if err := os.WriteFile(keep, []byte("mine"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := Restore(ctx, target, backupDir, false); err == nil || !strings.Contains(err.Error(), "--overwrite") {
		t.Errorf("restore into a folder that is not empty: %v", err)
	}
	if _, err := os.Stat(filepath.Join(target.DataDir, "metadata.db")); err == nil {
		t.Error("a refused restore wrote the database")
	}
	if err := Restore(ctx, target, backupDir, true); err != nil {
		t.Errorf("restore with overwrite: %v", err)
	}
	if b, err := os.ReadFile(keep); err != nil || string(b) != "mine" {
		t.Errorf("restore with overwrite removed a file that is not the install's: %v", err)
	}

	if _, err := Backup(ctx, target, filepath.Join(target.DataDir, "backups", "today"), "test"); err == nil || !strings.Contains(err.Error(), "apart") {
		t.Errorf("backup into the data folder: %v", err)
	}
	inside := embedded(t)
	inside.DataDir = filepath.Join(backupDir, "data")
	if err := Restore(ctx, inside, backupDir, true); err == nil || !strings.Contains(err.Error(), "apart") {
		t.Errorf("restore into a folder inside the backup: %v", err)
	}
	s3 := embedded(t)
	s3.Storage = "s3"
	for name, err := range map[string]error{
		"backup":  func() error { _, err := Backup(ctx, s3, t.TempDir(), "test"); return err }(),
		"restore": Restore(ctx, s3, backupDir, false),
	} {
		if err == nil || !strings.Contains(err.Error(), "CLOUDFLIX_STORAGE=s3") {
			t.Errorf("%s on S3: %v", name, err)
		}
	}
}
