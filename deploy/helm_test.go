package deploy

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
)

// The chart is rendered as this release in this namespace, for a cluster of
// this version (a helm built from the module proxy has no ldflags and would
// otherwise assume Kubernetes 1.20).
const (
	release     = "cloudflix"
	namespace   = "cloudflix"
	kubeVersion = "1.33.0"
	chartDir    = "deploy/helm/cloudflix"
)

var (
	repoRoot = mustAbs("..")
	// helmHome keeps helm's cache, config and data out of the user's home.
	helmHome string

	helmOnce sync.Once
	helmErr  error
)

func mustAbs(p string) string {
	abs, err := filepath.Abs(p)
	if err != nil {
		panic(err)
	}
	return abs
}

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "cloudflix-helm-home-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "helm home:", err)
		os.Exit(1)
	}
	helmHome = dir
	code := m.Run()
	_ = os.RemoveAll(dir)
	os.Exit(code)
}

// runHelm runs the helm pinned in tools/helm/go.mod from the repository
// root. The Go build cache keeps the built binary between runs.
func runHelm(args ...string) (stdout, stderr string, err error) {
	cmd := exec.Command("go", append([]string{"tool", "-modfile=tools/helm/go.mod", "helm"}, args...)...)
	cmd.Dir = repoRoot
	cmd.Env = append(os.Environ(),
		"HELM_CACHE_HOME="+filepath.Join(helmHome, "cache"),
		"HELM_CONFIG_HOME="+filepath.Join(helmHome, "config"),
		"HELM_DATA_HOME="+filepath.Join(helmHome, "data"),
		"KUBECONFIG="+filepath.Join(helmHome, "no-kubeconfig"),
	)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err = cmd.Run()
	return out.String(), errOut.String(), err
}

// helm runs helm; the first call builds it, once, before parallel tests
// race to build it side by side.
func helm(t *testing.T, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	if testing.Short() {
		t.Skip("-short: building helm takes minutes; make test-deploy runs it")
	}
	helmOnce.Do(func() {
		if _, stderr, err := runHelm("version"); err != nil {
			helmErr = fmt.Errorf("build helm from tools/helm/go.mod: %w\n%s", err, stderr)
		}
	})
	if helmErr != nil {
		t.Fatal(helmErr)
	}
	return runHelm(args...)
}

// render runs `helm template` with the values files (paths relative to the
// repository root) and decodes the result strictly.
func render(t *testing.T, valuesFiles ...string) manifests {
	t.Helper()
	args := []string{"template", release, chartDir, "--namespace", namespace, "--kube-version", kubeVersion}
	for _, f := range valuesFiles {
		args = append(args, "--values", f)
	}
	out, stderr, err := helm(t, args...)
	if err != nil {
		t.Fatalf("helm %s: %v\n%s", strings.Join(args, " "), err, stderr)
	}
	m, err := decodeManifests([]byte(out))
	if err != nil {
		t.Fatalf("helm %s: %v", strings.Join(args, " "), err)
	}
	return m
}

// writeValues writes a values file for one test and returns its path.
func writeValues(t *testing.T, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "values.yaml")
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestChartLintsStrictly(t *testing.T) {
	t.Parallel()
	for name, values := range map[string][]string{
		"default":    nil,
		"production": {chartDir + "/ci/production-values.yaml"},
		"minikube":   {"deploy/minikube/values.yaml"},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			args := []string{"lint", "--strict", "--kube-version", kubeVersion, chartDir}
			for _, f := range values {
				args = append(args, "--values", f)
			}
			out, stderr, err := helm(t, args...)
			if err != nil {
				t.Fatalf("helm %s: %v\n%s%s", strings.Join(args, " "), err, out, stderr)
			}
			if !strings.Contains(out, "0 chart(s) failed") {
				t.Fatalf("helm lint did not report success:\n%s", out)
			}
		})
	}
}

// TestChartSchemaRejects renders values a careless operator might write;
// values.schema.json must turn each away before anything is rendered.
func TestChartSchemaRejects(t *testing.T) {
	t.Parallel()
	for name, values := range map[string]string{
		"replicas as a word":         "upload:\n  replicaCount: three\n",
		"unknown top-level key":      "replicas: 3\n",
		"unknown pull policy":        "image:\n  pullPolicy: Sometimes\n",
		"misspelt target key":        "router:\n  replicaCont: 2\n",
		"unknown variable":           "config:\n  CLOUDFLIX_NO_SUCH_SETTING: x\n",
		"secret in the ConfigMap":    "config:\n  CLOUDFLIX_POSTGRES_URL: postgres://u:p@db/x\n",
		"duration that is not one":   "config:\n  CLOUDFLIX_CACHE_TTL: five minutes\n",
		"log level out of the enum":  "config:\n  CLOUDFLIX_LOG_LEVEL: verbose\n",
		"integer as a string":        "config:\n  CLOUDFLIX_ENCODE_WORKERS: \"2\"\n",
		"part size under 5 MiB":      "config:\n  CLOUDFLIX_UPLOAD_PART_SIZE: 1024\n",
		"no Redis address":           "config:\n  CLOUDFLIX_REDIS_ADDR: null\n",
		"no database URL":            "secrets:\n  CLOUDFLIX_POSTGRES_URL: \"\"\n",
		"database URL of a stranger": "secrets:\n  CLOUDFLIX_POSTGRES_URL: mysql://db/x\n",
		"root containers":            "securityContext:\n  runAsNonRoot: false\n",
		"writable root file system":  "securityContext:\n  readOnlyRootFilesystem: false\n",
		"no memory limit":            "host:\n  resources:\n    limits: null\n",
		"KEDA switch as a string":    "encode:\n  keda:\n    enabled: \"yes\"\n",
		"HPA on the upload service":  "upload:\n  autoscaling:\n    enabled: true\n",
		"ingress without hosts":      "ingress:\n  enabled: true\n  hosts: []\n",
		"test image on latest":       "tests:\n  image:\n    tag: latest\n",
		"internal key not in hex":    "secrets:\n  CLOUDFLIX_INTERNAL_KEY: correct-horse-battery-staple\n",
		"internal key of 16 bytes":   "secrets:\n  CLOUDFLIX_INTERNAL_KEY: 00112233445566778899aabbccddeeff\n",
		"internal key in ConfigMap":  "config:\n  CLOUDFLIX_INTERNAL_KEY: " + strings.Repeat("ab", 32) + "\n",
		"unknown sign-up mode":       "config:\n  CLOUDFLIX_SIGNUP: maybe\n",
		"OIDC without a client id":   "config:\n  CLOUDFLIX_OIDC_ISSUER: https://id.example.test\n",
		"quota below unlimited":      "config:\n  CLOUDFLIX_QUOTA_DAILY_BYTES: -2\n",
		"trusted proxy by name":      "config:\n  CLOUDFLIX_TRUSTED_PROXIES: lb.example.test\n",
		"policy peer that is empty":  "networkPolicy:\n  http:\n    from:\n      - {}\n",
		"policies on as a string":    "networkPolicy:\n  enabled: \"yes\"\n",
		"no scraper":                 "networkPolicy:\n  metrics:\n    from: []\n",
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			f := writeValues(t, values)
			_, stderr, err := helm(t, "template", release, chartDir, "--kube-version", kubeVersion, "--values", f)
			if err == nil {
				t.Fatalf("helm template accepted:\n%s", values)
			}
			if !strings.Contains(stderr, "schema") {
				t.Fatalf("helm template failed, but not on the schema:\n%s", stderr)
			}
		})
	}
}

// TestChartAcceptsOverrides is the control for TestChartSchemaRejects: the
// same kinds of keys with good values render.
func TestChartAcceptsOverrides(t *testing.T) {
	t.Parallel()
	f := writeValues(t, `
upload:
  replicaCount: 2
image:
  pullPolicy: Always
config:
  CLOUDFLIX_CACHE_TTL: 1h30m
  CLOUDFLIX_LOG_LEVEL: debug
  CLOUDFLIX_ENCODE_WORKERS: 2
  CLOUDFLIX_SIGNUP: closed
  CLOUDFLIX_QUOTA_STORAGE_BYTES: -1
  CLOUDFLIX_TRUSTED_PROXIES: 10.42.0.0/16, fd00::/8
  CLOUDFLIX_OIDC_ISSUER: https://id.example.test
  CLOUDFLIX_OIDC_CLIENT_ID: cloudflix
secrets:
  CLOUDFLIX_INTERNAL_KEY: 00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff
host:
  podDisruptionBudget:
    enabled: true
    minAvailable: 50%
encode:
  keda:
    enabled: true
`)
	m := render(t, f)
	if d := m.deployment(release + "-upload"); d == nil || d.Spec.Replicas == nil || *d.Spec.Replicas != 2 {
		t.Errorf("upload replicas not 2: %+v", d)
	}
	if d := m.deployment(release + "-encode"); d == nil || d.Spec.Replicas != nil {
		t.Errorf("encode Deployment scaled by KEDA still sets replicas")
	}
	if len(all[scaledObject](m)) != 1 {
		t.Errorf("encode.keda.enabled rendered %d ScaledObjects, want 1", len(all[scaledObject](m)))
	}
	cm := m.configMap(release + "-config")
	if cm == nil || cm.Data["CLOUDFLIX_CACHE_TTL"] != "1h30m" || cm.Data["CLOUDFLIX_ENCODE_WORKERS"] != "2" ||
		cm.Data["CLOUDFLIX_SIGNUP"] != "closed" || cm.Data["CLOUDFLIX_QUOTA_STORAGE_BYTES"] != "-1" {
		t.Errorf("config overrides missing from the ConfigMap: %+v", cm)
	}
	if s := m.secret(release + "-backends"); s == nil || !strings.HasPrefix(string(s.Data["CLOUDFLIX_INTERNAL_KEY"]), "00112233") {
		t.Errorf("the internal key given in values is not the Secret's")
	}
}

// schemaProperties lists the properties of an object in values.schema.json.
func schemaProperties(t *testing.T, path ...string) []string {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(repoRoot, chartDir, "values.schema.json"))
	if err != nil {
		t.Fatal(err)
	}
	var node map[string]any
	if err := json.Unmarshal(raw, &node); err != nil {
		t.Fatalf("values.schema.json: %v", err)
	}
	for _, p := range path {
		props, _ := node["properties"].(map[string]any)
		next, ok := props[p].(map[string]any)
		if !ok {
			t.Fatalf("values.schema.json has no properties.%s", strings.Join(path, ".properties."))
		}
		node = next
	}
	props, _ := node["properties"].(map[string]any)
	var keys []string
	for k := range props {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// TestChartNotesKeepSecrets renders NOTES.txt (which `helm template` leaves
// out) through a copy of the chart and checks that it names the Secret but
// prints none of its values.
func TestChartNotesKeepSecrets(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "cloudflix")
	if err := os.CopyFS(dir, os.DirFS(filepath.Join(repoRoot, chartDir))); err != nil {
		t.Fatal(err)
	}
	notes, err := os.ReadFile(filepath.Join(dir, "templates", "NOTES.txt"))
	if err != nil {
		t.Fatal(err)
	}
	// Files under templates/ are not in .Files; a copy at the chart's root is.
	if err := os.WriteFile(filepath.Join(dir, "notes.txt"), notes, 0o644); err != nil {
		t.Fatal(err)
	}
	wrapper := "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: rendered-notes\ndata:\n  notes: {{ tpl (.Files.Get \"notes.txt\") . | quote }}\n"
	if err := os.WriteFile(filepath.Join(dir, "templates", "rendered-notes.yaml"), []byte(wrapper), 0o644); err != nil {
		t.Fatal(err)
	}
	secrets := map[string]string{}
	values := "secrets:\n"
	for _, v := range allVariables() {
		if v.Secret {
			secrets[v.Name] = sampleValue(v, len(secrets)).(string)
			values += fmt.Sprintf("  %s: %q\n", v.Name, secrets[v.Name])
		}
	}
	out, stderr, err := helm(t, "template", release, dir, "--namespace", namespace, "--kube-version", kubeVersion,
		"--values", writeValues(t, values), "--show-only", "templates/rendered-notes.yaml")
	if err != nil {
		t.Fatalf("render NOTES.txt: %v\n%s", err, stderr)
	}
	m, err := decodeManifests([]byte(out))
	if err != nil {
		t.Fatal(err)
	}
	cm := m.configMap("rendered-notes")
	if cm == nil {
		t.Fatalf("NOTES.txt did not render:\n%s", out)
	}
	text := cm.Data["notes"]
	for name, value := range secrets {
		if strings.Contains(text, value) {
			t.Errorf("NOTES.txt prints %s", name)
		}
	}
	for _, want := range []string{release + "-backends", "helm test " + release, "port-forward svc/" + release + "-router",
		"exec -i deploy/" + release + "-account -- cloudflix admin create-user --role admin"} {
		if !strings.Contains(text, want) {
			t.Errorf("NOTES.txt lacks %q:\n%s", want, text)
		}
	}
}
