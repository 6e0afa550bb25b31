// Package credentials keeps the API tokens the command line signed in
// with, one per server, in a file only its user can read. It never talks
// to a server.
package credentials

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Login is what `cloudflix login` keeps for one server.
type Login struct {
	Username string `json:"username"`
	Token    string `json:"token"`
}

// File is where the logins are kept: the user's configuration folder,
// cloudflix/credentials.json.
func File() (string, error) {
	dir, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("no folder for the credentials: %w", err)
	}
	return filepath.Join(dir, "cloudflix", "credentials.json"), nil
}

type file struct {
	Servers map[string]Login `json:"servers"`
}

// Key names a server the same however its URL was typed.
func Key(server string) string {
	return strings.ToLower(strings.TrimRight(strings.TrimSpace(server), "/"))
}

func read(path string) (file, error) {
	f := file{Servers: map[string]Login{}}
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return f, nil
	}
	if err != nil {
		return f, err
	}
	if err := json.Unmarshal(b, &f); err != nil {
		return f, fmt.Errorf("%s is not a credentials file: %w", path, err)
	}
	if f.Servers == nil {
		f.Servers = map[string]Login{}
	}
	return f, nil
}

// For returns the login kept for server at path, and whether there is one.
func For(path, server string) (Login, bool, error) {
	f, err := read(path)
	if err != nil {
		return Login{}, false, err
	}
	l, ok := f.Servers[Key(server)]
	return l, ok, nil
}

// Save keeps l for server at path, readable by its user alone (0600 in a
// 0700 folder).
func Save(path, server string, l Login) error {
	return update(path, func(f *file) { f.Servers[Key(server)] = l })
}

// Forget removes the login kept for server.
func Forget(path, server string) error {
	return update(path, func(f *file) { delete(f.Servers, Key(server)) })
}

func update(path string, change func(*file)) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	f, err := read(path)
	if err != nil {
		return err
	}
	change(&f)
	b, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".credentials-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return err
	}
	if _, err := tmp.Write(append(b, '\n')); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
