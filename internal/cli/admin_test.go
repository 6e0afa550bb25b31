package cli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cloudflix/cloudflix/internal/account"
	"github.com/cloudflix/cloudflix/internal/auth"
	"github.com/cloudflix/cloudflix/internal/config"
	"github.com/cloudflix/cloudflix/internal/platform"
	"github.com/cloudflix/cloudflix/internal/testenv"
)

// The admin commands work on either metadata store, as the CLOUDFLIX_*
// variables choose it.
func TestAdminCommandsOnBothMetadataStores(t *testing.T) {
	for _, metadata := range []string{"sqlite", "postgres"} {
		t.Run(metadata, func(t *testing.T) {
			env := map[string]string{"CLOUDFLIX_METADATA": metadata, "CLOUDFLIX_DATA_DIR": filepath.Join(t.TempDir(), "data")}
			if metadata == "postgres" {
				env["CLOUDFLIX_POSTGRES_URL"] = testenv.Postgres(t)
				if _, _, err := run(t, env, "migrate"); err != nil {
					t.Fatal(err)
				}
			}
			pwFile := filepath.Join(t.TempDir(), "pw")
			if err := os.WriteFile(pwFile, []byte("olga's password\r\nnot this line\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			out, _, err := run(t, env, "admin", "create-user", "--username", "Olga", "--email", "Olga@Example.com", "--role", "admin", "--password-file", pwFile)
			if err != nil || !strings.HasPrefix(out, "created admin olga (id ") {
				t.Fatalf("create-user: %q %v", out, err)
			}
			var stdout, stderr bytes.Buffer
			err = admin(context.Background(), []string{"create-user", "--username", "bob", "--email", "bob@example.com"}, strings.NewReader("bob's password\n"), &stdout, &stderr)
			if err != nil || !strings.HasPrefix(stdout.String(), "created user bob ") {
				t.Fatalf("create-user with the password on stdin: %q %v", stdout.String(), err)
			}

			for _, c := range []struct {
				args []string
				want string
			}{
				{[]string{"create-user", "--username", "OLGA", "--email", "other@example.com", "--password-file", pwFile}, "taken"},
				{[]string{"create-user", "--username", "x!", "--email", "x@example.com", "--password-file", pwFile}, "username"},
				{[]string{"set-role", "--username", "nobody", "--role", "admin"}, "no user is named"},
			} {
				if _, _, err := run(t, env, append([]string{"admin"}, c.args...)...); err == nil || !strings.Contains(err.Error(), c.want) {
					t.Errorf("admin %v: %v, want an error about %s", c.args, err, c.want)
				}
			}
			for _, args := range [][]string{
				{"create-user", "--username", "carol"},
				{"create-user", "--username", "carol", "--email", "c@example.com", "--role", "king"},
				{"set-role", "--username", "bob"},
				{"set-role", "--username", "bob", "--role", "king"},
				{"set-quota", "--username", "bob"},
				{"set-quota", "--username", "bob", "--storage", "-5"},
				{"promote"},
				{},
			} {
				if _, _, err := run(t, env, append([]string{"admin"}, args...)...); err == nil || ExitCode(err) != 2 {
					t.Errorf("admin %v: %v, want a usage error", args, err)
				}
			}
			var short bytes.Buffer
			if err := admin(context.Background(), []string{"create-user", "--username", "dave", "--email", "d@example.com"}, strings.NewReader("short"), &short, &short); err == nil || !strings.Contains(err.Error(), "password") {
				t.Errorf("a short password: %v", err)
			}

			if out, _, err := run(t, env, "admin", "set-role", "--username", "BOB", "--role", "moderator"); err != nil || !strings.Contains(out, "role moderator") {
				t.Errorf("set-role: %q %v", out, err)
			}
			if out, _, err := run(t, env, "admin", "set-quota", "--username", "bob", "--storage", "-1", "--daily", "1048576"); err != nil || !strings.Contains(out, "storage quota none, daily upload quota 1.0 MiB") {
				t.Errorf("set-quota: %q %v", out, err)
			}

			// What the commands wrote is what the account service reads.
			var b config.Backends
			for k, v := range env {
				t.Setenv(k, v)
			}
			if err := config.Load(&b); err != nil {
				t.Fatal(err)
			}
			db, closeStore, err := platform.OpenStore(t.Context(), b)
			if err != nil {
				t.Fatal(err)
			}
			defer closeStore()
			for _, c := range []struct {
				login, password string
				role            auth.Role
				storage, daily  int64
			}{
				{"olga@example.com", "olga's password", auth.RoleAdmin, 0, 0},
				{"bob", "bob's password", auth.RoleModerator, account.Unlimited, 1 << 20},
			} {
				u, hash, err := db.UserByLogin(t.Context(), c.login)
				if err != nil {
					t.Fatal(err)
				}
				ok, err := auth.CheckPassword(hash, c.password)
				if !ok || err != nil || u.Role != c.role || u.StorageQuota != c.storage || u.DailyQuota != c.daily {
					t.Errorf("%s: %+v, password %v %v", c.login, u, ok, err)
				}
			}
		})
	}
}
