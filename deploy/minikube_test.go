package deploy

import (
	"net"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"sigs.k8s.io/yaml"
)

const minikubeDir = "deploy/minikube"

// kustomization is the part of kustomize's Kustomization the stack uses;
// decoding strictly into it catches a misspelt field kustomize would
// reject.
type kustomization struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Namespace  string `json:"namespace"`
	Labels     []struct {
		Pairs            map[string]string `json:"pairs"`
		IncludeSelectors bool              `json:"includeSelectors,omitempty"`
		IncludeTemplates bool              `json:"includeTemplates,omitempty"`
	} `json:"labels,omitempty"`
	Resources          []string    `json:"resources"`
	SecretGenerator    []generator `json:"secretGenerator,omitempty"`
	ConfigMapGenerator []generator `json:"configMapGenerator,omitempty"`
}

type generator struct {
	Name     string   `json:"name"`
	Literals []string `json:"literals,omitempty"`
	Files    []string `json:"files,omitempty"`
}

// The ConfigMaps `make minikube-up` makes from monitor/ files.
var monitorConfigMaps = []string{"prometheus-rules", "grafana-dashboards"}

type minikubeStack struct {
	k         kustomization
	m         manifests
	literals  map[string]string // secretGenerator literals by key
	generated map[string]bool   // generated ConfigMap names
}

func loadMinikubeStack(t *testing.T) minikubeStack {
	t.Helper()
	var s minikubeStack
	raw, err := os.ReadFile(filepath.Join(repoRoot, minikubeDir, "kustomization.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.UnmarshalStrict(raw, &s.k); err != nil {
		t.Fatalf("kustomization.yaml: %v", err)
	}
	if s.k.APIVersion != "kustomize.config.k8s.io/v1beta1" || s.k.Kind != "Kustomization" || s.k.Namespace != namespace {
		t.Fatalf("kustomization.yaml: %s %s in namespace %q", s.k.APIVersion, s.k.Kind, s.k.Namespace)
	}
	for _, r := range s.k.Resources {
		raw, err := os.ReadFile(filepath.Join(repoRoot, minikubeDir, r))
		if err != nil {
			t.Fatal(err)
		}
		objs, err := decodeManifests(raw)
		if err != nil {
			t.Fatalf("%s: %v", r, err)
		}
		s.m = append(s.m, objs...)
	}
	s.literals = map[string]string{}
	for _, g := range s.k.SecretGenerator {
		for _, l := range g.Literals {
			k, v, ok := strings.Cut(l, "=")
			if !ok {
				t.Fatalf("secretGenerator %s: literal %q is not KEY=VALUE", g.Name, l)
			}
			s.literals[g.Name+"/"+k] = v
		}
	}
	s.generated = map[string]bool{}
	for _, g := range s.k.ConfigMapGenerator {
		s.generated[g.Name] = true
		for _, f := range g.Files {
			_, path, _ := strings.Cut(f, "=")
			if path == "" {
				path = f
			}
			if _, err := os.Stat(filepath.Join(repoRoot, minikubeDir, path)); err != nil {
				t.Errorf("configMapGenerator %s: %v", g.Name, err)
			}
		}
	}
	return s
}

func TestMinikubeStackManifests(t *testing.T) {
	t.Parallel()
	s := loadMinikubeStack(t)
	m := s.m

	for _, want := range []string{"postgres", "redis", "rabbitmq", "s3", "jaeger", "prometheus", "grafana"} {
		if m.deployment(want) == nil || m.service(want) == nil {
			t.Errorf("the stack has no Deployment and Service %s", want)
		}
	}
	checkServicesSelectPods(t, m)
	checkProbePortsDeclared(t, m)

	for _, w := range m.workloads() {
		for _, c := range append(slices.Clone(w.Spec.InitContainers), w.Spec.Containers...) {
			if !imagePinned(c.Image) {
				t.Errorf("%s container %s: image %q is not pinned to a tag or digest", w.Name, c.Name, c.Image)
			}
			if c.ReadinessProbe == nil || c.LivenessProbe == nil {
				t.Errorf("%s container %s: needs readiness and liveness probes", w.Name, c.Name)
			}
			if c.Resources.Requests.Memory().IsZero() || c.Resources.Limits.Memory().IsZero() {
				t.Errorf("%s container %s: needs a memory request and limit", w.Name, c.Name)
			}
			for _, e := range c.Env {
				if e.ValueFrom != nil && e.ValueFrom.SecretKeyRef != nil {
					ref := e.ValueFrom.SecretKeyRef
					if _, ok := s.literals[ref.Name+"/"+ref.Key]; !ok {
						t.Errorf("%s container %s: %s reads %s/%s, which the secretGenerator does not make", w.Name, c.Name, e.Name, ref.Name, ref.Key)
					}
				}
			}
		}
		for _, v := range w.Spec.Volumes {
			if v.ConfigMap == nil {
				continue
			}
			switch {
			case s.generated[v.ConfigMap.Name]:
			case slices.Contains(monitorConfigMaps, v.ConfigMap.Name):
				if v.ConfigMap.Optional == nil || !*v.ConfigMap.Optional {
					t.Errorf("%s: ConfigMap %s comes from monitor/ and must be optional, so the stack starts without it", w.Name, v.ConfigMap.Name)
				}
			default:
				t.Errorf("%s mounts ConfigMap %s, which nothing makes", w.Name, v.ConfigMap.Name)
			}
		}
	}

	makefile, err := os.ReadFile(filepath.Join(repoRoot, "Makefile"))
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range monitorConfigMaps {
		if !strings.Contains(string(makefile), "configmap "+name) {
			t.Errorf("the Makefile does not create the ConfigMap %s", name)
		}
	}
}

// TestMinikubeStackObservability: Prometheus finds the CloudFlix pods and
// RabbitMQ and loads the rules; Grafana gets both data sources and the
// dashboards folder.
func TestMinikubeStackObservability(t *testing.T) {
	t.Parallel()
	s := loadMinikubeStack(t)
	m := s.m

	var prom struct {
		RuleFiles     []string `json:"rule_files"`
		ScrapeConfigs []struct {
			JobName             string `json:"job_name"`
			KubernetesSDConfigs []struct {
				Role       string `json:"role"`
				Namespaces struct {
					Names []string `json:"names"`
				} `json:"namespaces"`
			} `json:"kubernetes_sd_configs"`
			StaticConfigs []struct {
				Targets []string `json:"targets"`
			} `json:"static_configs"`
			RelabelConfigs []struct {
				SourceLabels []string `json:"source_labels"`
				TargetLabel  string   `json:"target_label"`
				Replacement  string   `json:"replacement"`
			} `json:"relabel_configs"`
		} `json:"scrape_configs"`
	}
	readYAML(t, "prometheus/prometheus.yml", &prom)
	pd := m.deployment("prometheus")
	rules := mountPathOf(pd, "rules")
	if len(prom.RuleFiles) == 0 || rules == "" || !strings.HasPrefix(prom.RuleFiles[0], rules+"/") {
		t.Errorf("Prometheus loads rules from %v, the rules ConfigMap is mounted at %q", prom.RuleFiles, rules)
	}
	jobs := map[string]bool{}
	for _, sc := range prom.ScrapeConfigs {
		jobs[sc.JobName] = true
		// monitor/ expects one job per target, cloudflix-<target>, and the
		// series' own service label intact.
		namesJobs := false
		for _, r := range sc.RelabelConfigs {
			if r.TargetLabel == "job" {
				namesJobs = r.Replacement == "cloudflix-$1" &&
					slices.Equal(r.SourceLabels, []string{"__meta_kubernetes_pod_label_app_kubernetes_io_component"})
			}
			if r.TargetLabel == "service" {
				t.Errorf("job %s sets a service target label, which renames the series' own", sc.JobName)
			}
		}
		if sc.JobName == "cloudflix" && !namesJobs {
			t.Errorf("job cloudflix does not name its jobs cloudflix-<component>")
		}
		for _, sd := range sc.KubernetesSDConfigs {
			if sd.Role != "pod" || !slices.Equal(sd.Namespaces.Names, []string{namespace}) {
				t.Errorf("job %s discovers %s in %v, want pods in %s", sc.JobName, sd.Role, sd.Namespaces.Names, namespace)
			}
		}
		for _, st := range sc.StaticConfigs {
			for _, target := range st.Targets {
				if host, port, _ := net.SplitHostPort(target); host != "localhost" && !serviceServes(m, host, port) {
					t.Errorf("job %s scrapes %s, which no Service serves", sc.JobName, target)
				}
			}
		}
	}
	if !jobs["cloudflix"] || !jobs["rabbitmq"] {
		t.Errorf("Prometheus scrape jobs %v, want cloudflix and rabbitmq", jobs)
	}
	plugins, err := os.ReadFile(filepath.Join(repoRoot, minikubeDir, "rabbitmq/enabled_plugins"))
	if err != nil || !strings.Contains(string(plugins), "rabbitmq_prometheus") {
		t.Errorf("RabbitMQ's Prometheus plugin is not enabled: %s %v", plugins, err)
	}

	// Prometheus may list pods in the namespace and nothing else.
	sa := pd.Spec.Template.Spec.ServiceAccountName
	var granted bool
	for _, rb := range all[rbacv1.RoleBinding](m) {
		if !slices.ContainsFunc(rb.Subjects, func(s rbacv1.Subject) bool { return s.Kind == "ServiceAccount" && s.Name == sa }) {
			continue
		}
		for _, r := range all[rbacv1.Role](m) {
			if r.Name == rb.RoleRef.Name && rb.RoleRef.Kind == "Role" && slices.ContainsFunc(r.Rules, func(p rbacv1.PolicyRule) bool {
				return slices.Contains(p.Resources, "pods") && slices.Contains(p.Verbs, "list") && slices.Contains(p.Verbs, "watch")
			}) {
				granted = true
			}
		}
	}
	if !granted {
		t.Errorf("Prometheus' ServiceAccount %q may not list and watch pods", sa)
	}

	var ds struct {
		APIVersion  int `json:"apiVersion"`
		Datasources []struct {
			Name      string         `json:"name"`
			UID       string         `json:"uid"`
			Type      string         `json:"type"`
			Access    string         `json:"access"`
			URL       string         `json:"url"`
			IsDefault bool           `json:"isDefault"`
			JSONData  map[string]any `json:"jsonData"`
		} `json:"datasources"`
	}
	readYAMLStrict(t, "grafana/datasources.yaml", &ds)
	types := map[string]bool{}
	for _, d := range ds.Datasources {
		types[d.Type] = true
		u, err := url.Parse(d.URL)
		if err != nil || !serviceServes(m, u.Hostname(), u.Port()) {
			t.Errorf("Grafana data source %s points at %s, which no Service serves", d.Name, d.URL)
		}
	}
	if !types["prometheus"] || !types["jaeger"] {
		t.Errorf("Grafana data sources %v, want prometheus and jaeger", types)
	}
	var dash struct {
		APIVersion int `json:"apiVersion"`
		Providers  []struct {
			Name                  string `json:"name"`
			Folder                string `json:"folder"`
			Type                  string `json:"type"`
			DisableDeletion       bool   `json:"disableDeletion"`
			AllowUIUpdates        bool   `json:"allowUiUpdates"`
			UpdateIntervalSeconds int    `json:"updateIntervalSeconds"`
			Options               struct {
				Path string `json:"path"`
			} `json:"options"`
		} `json:"providers"`
	}
	readYAMLStrict(t, "grafana/dashboards.yaml", &dash)
	if mounted := mountPathOf(m.deployment("grafana"), "dashboards"); len(dash.Providers) != 1 || dash.Providers[0].Options.Path != mounted {
		t.Errorf("Grafana loads dashboards from %+v, the dashboards ConfigMap is mounted at %q", dash.Providers, mounted)
	}
}

// TestMinikubeStackMatchesChart: the chart's default values and
// deploy/minikube/values.yaml reach the stack's Services with the stack's
// credentials.
func TestMinikubeStackMatchesChart(t *testing.T) {
	t.Parallel()
	s := loadMinikubeStack(t)
	m := s.m

	var defaults, mini struct {
		Config  map[string]any    `json:"config"`
		Secrets map[string]string `json:"secrets"`
	}
	readYAML(t, "../helm/cloudflix/values.yaml", &defaults)
	readYAML(t, "values.yaml", &mini)
	cfg := defaults.Config
	for k, v := range mini.Config {
		cfg[k] = v
	}
	sec := defaults.Secrets
	lit := func(k string) string { return s.literals["stack-credentials/"+k] }

	for _, k := range []string{"CLOUDFLIX_REDIS_ADDR", "CLOUDFLIX_S3_ENDPOINT", "CLOUDFLIX_OTLP_ENDPOINT"} {
		host, port, err := net.SplitHostPort(cfg[k].(string))
		if err != nil || !serviceServes(m, host, port) {
			t.Errorf("%s = %v, which no Service of the stack serves", k, cfg[k])
		}
	}
	if cfg["CLOUDFLIX_S3_ACCESS_KEY"] != lit("ROOT_ACCESS_KEY") || sec["CLOUDFLIX_S3_SECRET_KEY"] != lit("ROOT_SECRET_KEY") {
		t.Errorf("the chart's S3 credentials are not the S3 server's")
	}
	if sec["CLOUDFLIX_REDIS_PASSWORD"] == "" || sec["CLOUDFLIX_REDIS_PASSWORD"] != lit("REDIS_PASSWORD") {
		t.Errorf("the chart's Redis password is not the stack's Redis's")
	}
	if args := m.deployment("redis").Spec.Template.Spec.Containers[0].Args; !slices.Contains(args, "--requirepass") {
		t.Errorf("the stack's Redis asks for no password: %v", args)
	}
	for k, user := range map[string]string{"CLOUDFLIX_POSTGRES_URL": "POSTGRES", "CLOUDFLIX_AMQP_URL": "RABBITMQ_DEFAULT"} {
		u, err := url.Parse(sec[k])
		if err != nil {
			t.Errorf("%s: %v", k, err)
			continue
		}
		pw, _ := u.User.Password()
		passKey := user + "_PASSWORD"
		if user == "RABBITMQ_DEFAULT" {
			passKey = user + "_PASS"
		}
		if u.User.Username() != lit(user+"_USER") || pw != lit(passKey) {
			t.Errorf("%s: credentials are not the stack's", k)
		}
		if !serviceServes(m, u.Hostname(), u.Port()) {
			t.Errorf("%s points at %s, which no Service of the stack serves", k, u.Host)
		}
	}
	pgEnv := m.deployment("postgres").Spec.Template.Spec.Containers[0].Env
	u, _ := url.Parse(sec["CLOUDFLIX_POSTGRES_URL"])
	if i := slices.IndexFunc(pgEnv, func(e corev1.EnvVar) bool { return e.Name == "POSTGRES_DB" }); i < 0 || "/"+pgEnv[i].Value != u.Path {
		t.Errorf("PostgreSQL creates no database %s", u.Path)
	}
}

// TestMinikubeStackPassesNetworkPolicies: under the chart's policies with
// the stack's values, the stack's Prometheus scrapes every CloudFlix pod,
// and no other pod of the stack reaches more than the router's HTTP port.
func TestMinikubeStackPassesNetworkPolicies(t *testing.T) {
	t.Parallel()
	s := loadMinikubeStack(t)
	chart := render(t, minikubeDir+"/values.yaml")
	pols := all[networkingv1.NetworkPolicy](chart)
	for i, w := range s.m.workloads() {
		src := peer{name: w.Name, namespace: namespace, labels: w.Labels, ip: netip.AddrFrom4([4]byte{10, 244, 2, byte(i + 1)})}
		for _, d := range all[appsv1.Deployment](chart) {
			pod := d.Spec.Template
			for _, cp := range pod.Spec.Containers[0].Ports {
				got, err := admitted(pols, src, pod.Labels, pod.Spec.Containers, cp.ContainerPort)
				if err != nil {
					t.Fatal(err)
				}
				want := cp.Name == "http" || (cp.Name == "admin" && w.Name == "Deployment prometheus")
				if got != want {
					t.Errorf("%s → %s port %s: admitted %v, want %v", w.Name, d.Name, cp.Name, got, want)
				}
			}
		}
	}
}

// serviceServes reports whether a Service named host serves port.
func serviceServes(m manifests, host, port string) bool {
	svc := m.service(host)
	n, err := strconv.Atoi(port)
	if svc == nil || err != nil {
		return false
	}
	return slices.ContainsFunc(svc.Spec.Ports, func(p corev1.ServicePort) bool { return int(p.Port) == n })
}

// mountPathOf is where a Deployment's first container mounts a volume.
func mountPathOf(d *appsv1.Deployment, volume string) string {
	if d == nil {
		return ""
	}
	for _, vm := range d.Spec.Template.Spec.Containers[0].VolumeMounts {
		if vm.Name == volume {
			return vm.MountPath
		}
	}
	return ""
}

func readYAML(t *testing.T, rel string, v any) {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(repoRoot, minikubeDir, rel))
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(raw, v); err != nil {
		t.Fatalf("%s: %v", rel, err)
	}
}

func readYAMLStrict(t *testing.T, rel string, v any) {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(repoRoot, minikubeDir, rel))
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.UnmarshalStrict(raw, v); err != nil {
		t.Fatalf("%s: %v", rel, err)
	}
}
