package platform

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/cloudflix/cloudflix/internal/config"
	"github.com/cloudflix/cloudflix/internal/store/sqlitestore"
)

// A backup folder holds the embedded install's files under the names they
// have in a data folder, and a manifest, written last: a backup cut short
// has none, and Restore refuses it.
const (
	backupManifest = "cloudflix-backup.json"
	backupFormat   = 1
)

// manifest describes a backup.
type manifest struct {
	Format    int       `json:"format"`
	Version   string    `json:"version"`
	CreatedAt time.Time `json:"created_at"`
	Objects   int64     `json:"objects"` // files copied from local storage
	Bytes     int64     `json:"bytes"`
}

// BackupSummary is what a backup copied.
type BackupSummary struct {
	Objects int64 // files of local storage: objects, their metadata, open uploads' parts
	Bytes   int64 // their bytes, the database's aside
}

// Backup copies the embedded install of cfg (SQLite metadata, local-folder
// storage) into dir, which must be missing or empty, while the platform
// may be running on it. The database is copied first, as one transaction
// sees it, then storage: every object a video of the copied database
// needs was in storage before the video was marked so (an upload is
// complete once its source is stored, an encode ready once its renditions
// and master playlist are), and is still there when storage is copied
// unless the video is being deleted or encoded again meanwhile. What
// storage gained after the database was copied (uploads completed,
// renditions written) is owned by no video of the copy: the janitor's
// orphan scan finds it after a restore. The other order would leave
// videos without their objects.
func Backup(ctx context.Context, cfg config.Backends, dir, version string) (BackupSummary, error) {
	if err := embeddedFiles(cfg, "backup"); err != nil {
		return BackupSummary{}, err
	}
	if err := apart(cfg.DataDir, dir); err != nil {
		return BackupSummary{}, fmt.Errorf("backup: %w", err)
	}
	if err := emptyFolder(dir); err != nil {
		return BackupSummary{}, fmt.Errorf("backup: %w", err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return BackupSummary{}, fmt.Errorf("backup: %w", err)
	}
	backupCfg := cfg
	backupCfg.DataDir = dir
	if err := sqlitestore.Snapshot(ctx, sqliteOptions(cfg), metadataPath(backupCfg)); err != nil {
		return BackupSummary{}, fmt.Errorf("backup: %w", err)
	}
	var sum BackupSummary
	err := copyTree(ctx, storageDir(cfg), storageDir(backupCfg), &sum)
	if err == nil {
		err = copyIfPresent(signingKeyPath(cfg), signingKeyPath(backupCfg))
	}
	if err != nil {
		return sum, fmt.Errorf("backup: %w", err)
	}
	m := manifest{Format: backupFormat, Version: version, CreatedAt: time.Now().UTC(), Objects: sum.Objects, Bytes: sum.Bytes}
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return sum, err
	}
	if err := writeFileSynced(filepath.Join(dir, backupManifest), append(b, '\n')); err != nil {
		return sum, fmt.Errorf("backup: %w", err)
	}
	return sum, nil
}

// Restore copies the backup in dir into cfg's data folder, which must be
// empty (or missing) unless overwrite is set; then the database and
// storage the folder held are replaced. It takes the data folder's lock
// for the whole restore, so it refuses a folder a platform is running on.
func Restore(ctx context.Context, cfg config.Backends, dir string, overwrite bool) error {
	if err := embeddedFiles(cfg, "restore"); err != nil {
		return err
	}
	if err := apart(cfg.DataDir, dir); err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	b, err := os.ReadFile(filepath.Join(dir, backupManifest))
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("restore: %s is not a finished CloudFlix backup: it has no %s", dir, backupManifest)
	} else if err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	var m manifest
	if err := json.Unmarshal(b, &m); err != nil || m.Format != backupFormat {
		return fmt.Errorf("restore: %s: not a backup of format %d", filepath.Join(dir, backupManifest), backupFormat)
	}
	backupCfg := cfg
	backupCfg.DataDir = dir
	if err := sqlitestore.IntegrityCheck(ctx, metadataPath(backupCfg)); err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	if err := emptyFolder(cfg.DataDir); err != nil && !overwrite {
		return fmt.Errorf("restore: %w; restore into an empty data folder, or pass --overwrite to replace its database and storage", err)
	}
	if err := os.MkdirAll(cfg.DataDir, 0o755); err != nil {
		return fmt.Errorf("restore: data dir: %w", err)
	}
	lock, err := lockDataDir(cfg.DataDir)
	if err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	defer lock.Close()
	// The database goes in last, under a temporary name until it is
	// whole: a restore cut short leaves no database that looks finished.
	for _, p := range []string{metadataPath(cfg), metadataPath(cfg) + "-wal", metadataPath(cfg) + "-shm", storageDir(cfg), signingKeyPath(cfg)} {
		if err := os.RemoveAll(p); err != nil {
			return fmt.Errorf("restore: %w", err)
		}
	}
	var sum BackupSummary
	if err := copyTree(ctx, storageDir(backupCfg), storageDir(cfg), &sum); err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	if err := copyIfPresent(signingKeyPath(backupCfg), signingKeyPath(cfg)); err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	tmp := metadataPath(cfg) + ".restoring"
	if err := copyFile(metadataPath(backupCfg), tmp); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("restore: %w", err)
	}
	if err := os.Rename(tmp, metadataPath(cfg)); err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	return nil
}

// embeddedFiles refuses a configuration whose data is not in the data
// folder: PostgreSQL and S3 have backups of their own.
func embeddedFiles(cfg config.Backends, what string) error {
	if cfg.Metadata != "sqlite" || cfg.Storage != "local" {
		return fmt.Errorf("%s copies an install on the embedded metadata store and storage "+
			"(CLOUDFLIX_METADATA=sqlite, CLOUDFLIX_STORAGE=local), not CLOUDFLIX_METADATA=%s, CLOUDFLIX_STORAGE=%s: "+
			"back up PostgreSQL and S3 with their own tools (see the README's Backups)", what, cfg.Metadata, cfg.Storage)
	}
	return nil
}

// apart refuses a backup folder that is the data folder, or inside it, or
// holds it: a backup would copy itself, a restore remove its source.
func apart(dataDir, backupDir string) error {
	d, err := filepath.Abs(dataDir)
	if err != nil {
		return err
	}
	b, err := filepath.Abs(backupDir)
	if err != nil {
		return err
	}
	within := func(inner, outer string) bool {
		rel, err := filepath.Rel(outer, inner)
		return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator))
	}
	if within(b, d) || within(d, b) {
		return fmt.Errorf("the backup folder %s and the data folder %s must be apart, neither inside the other", backupDir, dataDir)
	}
	return nil
}

// emptyFolder reports an error unless dir is missing or empty; a data
// folder's lock file alone counts as empty.
func emptyFolder(dir string) error {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	} else if err != nil {
		return err
	}
	for _, e := range entries {
		if e.Name() != "cloudflix.lock" {
			return fmt.Errorf("%s is not empty (it holds %s)", dir, e.Name())
		}
	}
	return nil
}

// copyTree copies the files under src to dst, keeping their modification
// times (local storage matches an object to its metadata by it, and the
// janitor reads an object's age from it), and skipping local
// storage's tmp folder of files being written. A file or folder that
// vanishes while it is copied (deleted by the running platform) is left
// out. Each file is copied whole: local storage renames every file into
// place complete, so an open file is an old version or a new one.
func copyTree(ctx context.Context, src, dst string, sum *BackupSummary) error {
	return filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if errors.Is(err, fs.ErrNotExist) {
			return nil // nothing stored yet, or deleted meanwhile
		} else if err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		rel, err := filepath.Rel(src, path)
		if err != nil {
			return err
		}
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		if filepath.Dir(rel) == "tmp" || !d.Type().IsRegular() {
			return nil
		}
		n, err := copyFileKeepTime(path, target)
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		if err != nil {
			return err
		}
		sum.Objects++
		sum.Bytes += n
		return nil
	})
}

// copyFileKeepTime copies one file and its modification time, and returns
// its size.
func copyFileKeepTime(src, dst string) (int64, error) {
	in, err := os.Open(src)
	if err != nil {
		return 0, err
	}
	defer in.Close()
	fi, err := in.Stat()
	if err != nil {
		return 0, err
	}
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_EXCL|os.O_WRONLY, fi.Mode().Perm())
	if err != nil {
		return 0, err
	}
	n, err := io.Copy(out, in)
	if err == nil {
		err = out.Sync()
	}
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chtimes(dst, fi.ModTime(), fi.ModTime())
	}
	return n, err
}

func copyFile(src, dst string) error {
	_, err := copyFileKeepTime(src, dst)
	return err
}

// copyIfPresent copies src when it exists: local storage's signing key
// is kept in the data folder only when no key is configured.
func copyIfPresent(src, dst string) error {
	if _, err := os.Stat(src); errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	return copyFile(src, dst)
}

func writeFileSynced(path string, b []byte) error {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	_, err = f.Write(b)
	if err == nil {
		err = f.Sync()
	}
	return errors.Join(err, f.Close())
}
