package uploader

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// state is the resume record of one upload: which video the file is being
// uploaded as. It is keyed by the file (absolute path, size, modification
// time) and the server, so that a changed file or another server starts a
// new upload instead of finishing an old one with different bytes.
type state struct {
	file    string
	VideoID string `json:"video_id"`
	Path    string `json:"path"`
	Server  string `json:"server"`
}

func openState(dir, path string, fi fs.FileInfo, server string) (*state, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("resume state: %w", err)
	}
	sum := sha256.Sum256([]byte(fmt.Sprintf("%s\n%d\n%d\n%s", abs, fi.Size(), fi.ModTime().UnixNano(), server)))
	st := &state{file: filepath.Join(dir, hex.EncodeToString(sum[:])+".json"), Path: abs, Server: server}
	b, err := os.ReadFile(st.file)
	if errors.Is(err, fs.ErrNotExist) {
		return st, nil
	}
	if err != nil {
		return nil, fmt.Errorf("resume state: %w", err)
	}
	if err := json.Unmarshal(b, st); err != nil {
		// A torn or foreign file only costs a fresh upload.
		st.VideoID = ""
	}
	return st, nil
}

// save records videoID, atomically, so that a crash leaves the old record
// or the new one and never half of one.
func (st *state) save(videoID string) error {
	st.VideoID = videoID
	b, err := json.Marshal(st)
	if err != nil {
		return fmt.Errorf("resume state: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(st.file), 0o700); err != nil {
		return fmt.Errorf("resume state: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(st.file), ".state-*")
	if err != nil {
		return fmt.Errorf("resume state: %w", err)
	}
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return fmt.Errorf("resume state: %w", err)
	}
	if err := tmp.Close(); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("resume state: %w", err)
	}
	if err := os.Rename(tmp.Name(), st.file); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("resume state: %w", err)
	}
	return nil
}

// remove forgets the upload. A file that cannot be removed is harmless: the
// next upload of the same file finds its session gone and starts afresh.
func (st *state) remove() {
	st.VideoID = ""
	_ = os.Remove(st.file)
}
