package deploy

import (
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"

	"github.com/cloudflix/cloudflix/internal/config"
)

// sampleValue makes a value for a variable that differs from its default
// and from every other sample, and that values.schema.json accepts, so
// that finding it in a pod's environment proves the value travelled there.
func sampleValue(v config.Variable, i int) any {
	switch v.Name {
	case "CLOUDFLIX_LOG_LEVEL":
		return "debug"
	case "CLOUDFLIX_ENCODE_PRESET":
		return "slow"
	case "CLOUDFLIX_PUBLIC_URL":
		return "https://videos.example.test"
	case "CLOUDFLIX_ENCODE_WORKDIR":
		return "/scratch/encode"
	case "CLOUDFLIX_UPLOAD_ALLOWED_TYPES":
		return "video/mp4,video/webm"
	case "CLOUDFLIX_S3_BUCKET":
		return "sample-bucket"
	case "CLOUDFLIX_POSTGRES_URL":
		return "postgres://sample:pw@db.example.test:5432/cloudflix"
	case "CLOUDFLIX_AMQP_URL":
		return "amqp://sample:pw@mq.example.test:5672/"
	case "CLOUDFLIX_STORAGE_SIGNING_KEY":
		return strings.Repeat("5a", 32)
	case "CLOUDFLIX_INTERNAL_KEY":
		return strings.Repeat("6b", 32)
	case "CLOUDFLIX_OIDC_ISSUER":
		return "https://id.example.test/realms/sample"
	case "CLOUDFLIX_TRUSTED_PROXIES":
		return "10.42.0.0/16,192.0.2.10"
	case "CLOUDFLIX_WEBHOOK_ALLOWED_NETWORKS":
		return "10.43.0.0/16,fd00:1::/64"
	case "CLOUDFLIX_SIGNUP":
		return "invite"
	case "CLOUDFLIX_JANITOR_ORPHAN_MODE":
		return "delete"
	case "CLOUDFLIX_DATA_DIR":
		return "/sample/data"
	case "CLOUDFLIX_ENCODE_NICE":
		return 15 // a niceness goes up to 19 only
	// The backends a pod can use: the only values the schema allows.
	case "CLOUDFLIX_METADATA":
		return "postgres"
	case "CLOUDFLIX_STORAGE":
		return "s3"
	case "CLOUDFLIX_CACHE":
		return "redis"
	case "CLOUDFLIX_QUEUE":
		return "rabbitmq"
	}
	switch {
	case v.Secret:
		return fmt.Sprintf("sample-secret-%d", i)
	case strings.HasSuffix(v.Name, "_GRPC_ADDR"), v.Name == "CLOUDFLIX_HTTP_ADDR", v.Name == "CLOUDFLIX_ADMIN_ADDR":
		return fmt.Sprintf(":%d", 9200+i) // listen addresses
	case strings.HasSuffix(v.Name, "_ADDR"), strings.HasSuffix(v.Name, "_ENDPOINT"):
		return fmt.Sprintf("host%d.example.test:%d", i, 9200+i)
	case strings.HasSuffix(v.Name, "_TARGET"):
		return fmt.Sprintf("dns:///target%d.example.test:%d", i, 9200+i)
	}
	if v.Default == "true" || v.Default == "false" {
		return v.Default != "true"
	}
	if n, err := strconv.ParseInt(v.Default, 10, 64); err == nil {
		return n + int64(i) + 1
	}
	if _, err := time.ParseDuration(v.Default); err == nil {
		return fmt.Sprintf("%ds", 1000+i)
	}
	return fmt.Sprintf("sample-%d", i)
}

// TestChartSetsEveryVariable proves that every variable the binary reads
// can be set from values: non-secret ones through config, secret ones
// through secrets, and that each reaches the pods of every target that
// reads it (secrets only those).
func TestChartSetsEveryVariable(t *testing.T) {
	t.Parallel()
	vars := allVariables()

	// The schema lists exactly the variables the binary reads, split into
	// config (ConfigMap) and secrets (Secret).
	inSchema := schemaProperties(t, "config")
	for _, k := range schemaProperties(t, "secrets") {
		if k != "existingSecret" {
			inSchema = append(inSchema, k)
		}
	}
	var names []string
	for _, v := range vars {
		names = append(names, v.Name)
	}
	slices.Sort(inSchema)
	slices.Sort(names)
	if !slices.Equal(inSchema, names) {
		t.Fatalf("values.schema.json config+secrets properties differ from the variables the binary reads:\nschema: %v\nbinary: %v", inSchema, names)
	}
	for _, k := range schemaProperties(t, "secrets") {
		if i := slices.IndexFunc(vars, func(v config.Variable) bool { return v.Name == k }); i >= 0 && !vars[i].Secret {
			t.Errorf("secrets.%s is not a secret variable", k)
		}
	}
	for _, k := range schemaProperties(t, "config") {
		if i := slices.IndexFunc(vars, func(v config.Variable) bool { return v.Name == k }); vars[i].Secret {
			t.Errorf("config.%s is a secret variable: it would land in a ConfigMap", k)
		}
	}

	// Render with every variable set to its sample.
	want := map[string]string{}
	values := map[string]map[string]any{"config": {}, "secrets": {}}
	for i, v := range vars {
		s := sampleValue(v, i)
		want[v.Name] = fmt.Sprint(s)
		if v.Secret {
			values["secrets"][v.Name] = s
		} else {
			values["config"][v.Name] = s
		}
	}
	raw, err := yaml.Marshal(values)
	if err != nil {
		t.Fatal(err)
	}
	m := render(t, writeValues(t, string(raw)))
	checkChart(t, m, chartRender{dialsElsewhere: true})

	checkMigrationEnv(t, m, want)
	for _, target := range targets {
		d := m.deployment(release + "-" + target)
		if d == nil {
			t.Fatalf("no Deployment for %s", target)
		}
		c := d.Spec.Template.Spec.Containers[0]
		env, err := effectiveEnv(m, c)
		if err != nil {
			t.Fatalf("%s: %v", target, err)
		}
		for _, v := range config.Variables(targetConfigs[target]...) {
			got, ok := env[v.Name]
			if v.Secret && !slices.Contains(secretsOf[target], v.Name) {
				if ok {
					t.Errorf("%s: gets %s, which it never uses", target, v.Name)
				}
				continue
			}
			switch {
			case !ok:
				t.Errorf("%s: %s is not in the environment", target, v.Name)
			case got.value != want[v.Name]:
				t.Errorf("%s: %s = %q, want %q", target, v.Name, got.value, want[v.Name])
			case v.Secret != got.fromSecret:
				t.Errorf("%s: %s comes from a Secret: %v, want %v", target, v.Name, got.fromSecret, v.Secret)
			}
		}
		// Listen addresses move the ports, and the probes with them.
		addr := want["CLOUDFLIX_"+strings.ToUpper(target)+"_GRPC_ADDR"]
		if target == "router" {
			addr = want["CLOUDFLIX_HTTP_ADDR"]
		}
		_, port, _ := net.SplitHostPort(addr)
		if len(c.Ports) == 0 || fmt.Sprint(c.Ports[0].ContainerPort) != port {
			t.Errorf("%s: container port %v does not follow %s", target, c.Ports, addr)
		}
	}
}

// checkMigrationEnv: the migration Job, which runs before the release's
// ConfigMap and Secret exist, still sees the settings and the database URL.
func checkMigrationEnv(t *testing.T, m manifests, want map[string]string) {
	t.Helper()
	jobs := all[batchv1.Job](m)
	if len(jobs) != 1 {
		t.Fatalf("%d Jobs, want the migration", len(jobs))
	}
	env, err := effectiveEnv(m, jobs[0].Spec.Template.Spec.Containers[0])
	if err != nil {
		t.Fatalf("migration Job: %v", err)
	}
	for _, v := range config.Variables(&config.Backends{}) {
		got, ok := env[v.Name]
		if v.Secret && !slices.Contains(secretsOf["migrate"], v.Name) {
			if ok {
				t.Errorf("migration Job: gets %s, which it never uses", v.Name)
			}
			continue
		}
		if !ok || got.value != want[v.Name] || got.fromSecret != v.Secret {
			t.Errorf("migration Job: %s = %+v, want %q (from a Secret: %v)", v.Name, got, want[v.Name], v.Secret)
		}
	}
}

// envValue is a variable as a container sees it.
type envValue struct {
	value      string
	fromSecret bool
}

// effectiveEnv resolves a container's environment the way the kubelet
// does: envFrom first, then env entries, which win; references are looked
// up in the rendered ConfigMaps and Secrets.
func effectiveEnv(m manifests, c corev1.Container) (map[string]envValue, error) {
	env := map[string]envValue{}
	for _, ef := range c.EnvFrom {
		switch {
		case ef.ConfigMapRef != nil:
			cm := m.configMap(ef.ConfigMapRef.Name)
			if cm == nil {
				return nil, fmt.Errorf("envFrom ConfigMap %s is not rendered", ef.ConfigMapRef.Name)
			}
			for k, v := range cm.Data {
				env[ef.Prefix+k] = envValue{value: v}
			}
		case ef.SecretRef != nil:
			s := m.secret(ef.SecretRef.Name)
			if s == nil {
				return nil, fmt.Errorf("envFrom Secret %s is not rendered", ef.SecretRef.Name)
			}
			for k, v := range s.Data {
				env[ef.Prefix+k] = envValue{value: string(v), fromSecret: true}
			}
		}
	}
	for _, e := range c.Env {
		switch {
		case e.ValueFrom == nil:
			env[e.Name] = envValue{value: e.Value}
		case e.ValueFrom.SecretKeyRef != nil:
			ref := e.ValueFrom.SecretKeyRef
			s := m.secret(ref.Name)
			if s == nil {
				return nil, fmt.Errorf("%s: Secret %s is not rendered", e.Name, ref.Name)
			}
			v, ok := s.Data[ref.Key]
			if !ok {
				return nil, fmt.Errorf("%s: Secret %s has no key %s", e.Name, ref.Name, ref.Key)
			}
			env[e.Name] = envValue{value: string(v), fromSecret: true}
		case e.ValueFrom.ConfigMapKeyRef != nil:
			ref := e.ValueFrom.ConfigMapKeyRef
			cm := m.configMap(ref.Name)
			if cm == nil {
				return nil, fmt.Errorf("%s: ConfigMap %s is not rendered", e.Name, ref.Name)
			}
			env[e.Name] = envValue{value: cm.Data[ref.Key]}
		}
	}
	return env, nil
}

// TestChartValuesKeepTheBinarysDefaults: values.yaml writes settings out
// for operators to find, and each must be what the binary does anyway,
// except where the chart chooses otherwise on purpose.
func TestChartValuesKeepTheBinarysDefaults(t *testing.T) {
	t.Parallel()
	// The chart listens on one gRPC port in every pod, on its admin port
	// from outside the pod (the binary's default is loopback), and reaches
	// the minikube stack's Redis and S3 server.
	chosen := map[string]bool{
		"CLOUDFLIX_ADMIN_ADDR":       true,
		"CLOUDFLIX_UPLOAD_GRPC_ADDR": true, "CLOUDFLIX_HOST_GRPC_ADDR": true, "CLOUDFLIX_SEARCH_GRPC_ADDR": true,
		"CLOUDFLIX_ENCODE_GRPC_ADDR": true, "CLOUDFLIX_ACCOUNT_GRPC_ADDR": true,
		"CLOUDFLIX_REDIS_ADDR": true, "CLOUDFLIX_S3_ENDPOINT": true,
	}
	var values struct {
		Config map[string]any `json:"config"`
	}
	readYAML(t, "../helm/cloudflix/values.yaml", &values)
	for k, v := range values.Config {
		s := fmt.Sprint(v)
		if f, ok := v.(float64); ok {
			s = strconv.FormatFloat(f, 'f', -1, 64)
		}
		if s == "" || chosen[k] {
			continue
		}
		if d := defaultOf(k); s != d {
			t.Errorf("values.yaml sets %s to %q, the binary's default is %q", k, s, d)
		}
	}
}
