package deploy

import (
	"encoding/hex"
	"fmt"
	"net"
	"slices"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"

	"github.com/cloudflix/cloudflix/internal/config"
)

// targets are the Deployments the chart makes, one per `serve --target`.
var targets = []string{"router", "upload", "host", "search", "encode", "account"}

// targetConfigs are the config structs each target loads, as
// internal/cli does (every process also loads config.Process and
// config.Backends).
var targetConfigs = map[string][]any{
	"router":  {&config.Process{}, &config.Backends{}, &config.Router{}},
	"upload":  {&config.Process{}, &config.Backends{}, &config.Upload{}},
	"host":    {&config.Process{}, &config.Backends{}, &config.Host{}},
	"search":  {&config.Process{}, &config.Backends{}, &config.Search{}},
	"encode":  {&config.Process{}, &config.Backends{}, &config.Encode{}},
	"account": {&config.Process{}, &config.Backends{}, &config.Account{}},
}

// secretsOf are the secrets each target reads: the internal key, which
// every `serve` process of the install shares, and the credentials of the
// backends the target opens (its Run asks the platform for the store,
// objects, cache and queue it uses, and the account service signs in
// through the OpenID provider); the migration needs only the database. A
// pod gets these and no others.
var secretsOf = map[string][]string{
	"router":  {"CLOUDFLIX_INTERNAL_KEY", "CLOUDFLIX_S3_SECRET_KEY", "CLOUDFLIX_STORAGE_SIGNING_KEY"},
	"upload":  {"CLOUDFLIX_INTERNAL_KEY", "CLOUDFLIX_POSTGRES_URL", "CLOUDFLIX_REDIS_PASSWORD", "CLOUDFLIX_AMQP_URL", "CLOUDFLIX_S3_SECRET_KEY", "CLOUDFLIX_STORAGE_SIGNING_KEY"},
	"host":    {"CLOUDFLIX_INTERNAL_KEY", "CLOUDFLIX_POSTGRES_URL", "CLOUDFLIX_REDIS_PASSWORD"},
	"search":  {"CLOUDFLIX_INTERNAL_KEY", "CLOUDFLIX_POSTGRES_URL", "CLOUDFLIX_REDIS_PASSWORD"},
	"encode":  {"CLOUDFLIX_INTERNAL_KEY", "CLOUDFLIX_POSTGRES_URL", "CLOUDFLIX_REDIS_PASSWORD", "CLOUDFLIX_AMQP_URL", "CLOUDFLIX_S3_SECRET_KEY", "CLOUDFLIX_STORAGE_SIGNING_KEY"},
	"account": {"CLOUDFLIX_INTERNAL_KEY", "CLOUDFLIX_POSTGRES_URL", "CLOUDFLIX_OIDC_CLIENT_SECRET"},
	"migrate": {"CLOUDFLIX_POSTGRES_URL"},
}

// allVariables is every variable any target reads.
func allVariables() []config.Variable {
	return config.Variables(&config.Process{}, &config.Backends{}, &config.Router{}, &config.Upload{}, &config.Host{}, &config.Search{}, &config.Encode{}, &config.Account{})
}

// TestSecretsOfCoverEverySecret keeps secretsOf in step with the binary: a
// new secret variable must be given to the targets that read it.
func TestSecretsOfCoverEverySecret(t *testing.T) {
	t.Parallel()
	given := map[string]bool{}
	for _, keys := range secretsOf {
		for _, k := range keys {
			given[k] = true
		}
	}
	for _, v := range allVariables() {
		if v.Secret != given[v.Name] {
			t.Errorf("%s: secret=%v, but secretsOf gives it to pods=%v", v.Name, v.Secret, given[v.Name])
		}
		delete(given, v.Name)
	}
	for k := range given {
		t.Errorf("secretsOf names %s, which the binary does not read", k)
	}
}

// chartRender says what a render is expected to hold beyond the invariants.
type chartRender struct {
	// existingSecret is the operator's Secret the pods read, or empty when
	// the chart makes one.
	existingSecret string
	hpas           int
	keda           bool
	serviceMonitor bool
	ingressTLS     bool
	// dialsElsewhere: values point the router's gRPC targets away from
	// the chart's Services.
	dialsElsewhere bool
	// noNetworkPolicies: values switch them off.
	noNetworkPolicies bool
	// httpFrom is the one peer besides `helm test` that may reach the
	// router's HTTP port; nil: anyone.
	httpFrom *peer
	// scraper is the Prometheus pod values admit to the admin port; nil:
	// defaultScraper.
	scraper *peer
}

func TestChartRenders(t *testing.T) {
	t.Parallel()
	cases := map[string]struct {
		values []string
		want   chartRender
	}{
		"default":    {nil, chartRender{}},
		"production": {[]string{chartDir + "/ci/production-values.yaml"}, chartRender{existingSecret: "cloudflix-backends", hpas: 4, keda: true, serviceMonitor: true, ingressTLS: true, httpFrom: &ingressController}},
		"minikube":   {[]string{"deploy/minikube/values.yaml"}, chartRender{}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			m := render(t, tc.values...)
			checkChart(t, m, tc.want)
		})
	}
}

func TestChartRendersProductionAsAsked(t *testing.T) {
	t.Parallel()
	m := render(t, chartDir+"/ci/production-values.yaml")
	for _, target := range []string{"router", "host", "search", "encode", "account"} {
		if d := m.deployment(release + "-" + target); d.Spec.Replicas != nil {
			t.Errorf("%s: an autoscaled Deployment sets replicas (%d); the autoscaler owns them", target, *d.Spec.Replicas)
		}
	}
	if r := m.deployment(release + "-upload").Spec.Replicas; r == nil || *r != 3 {
		t.Errorf("upload replicas = %v, want 3", r)
	}
	for _, h := range all[autoscalingv2.HorizontalPodAutoscaler](m) {
		if h.Spec.MinReplicas == nil || *h.Spec.MinReplicas != 3 {
			t.Errorf("HPA %s: minReplicas %v, want 3", h.Name, h.Spec.MinReplicas)
		}
	}
	if m.secret(release+"-backends") != nil || m.secret(release+"-migrate") != nil {
		t.Error("with secrets.existingSecret the chart still renders a Secret of its own")
	}
	enc := m.deployment(release + "-encode").Spec.Template.Spec
	if enc.Containers[0].Image != "registry.example.com/cloudflix/cloudflix-encode:1.4.2" {
		t.Errorf("encode image = %s, want the encode repository at image.tag", enc.Containers[0].Image)
	}
	if enc.NodeSelector["workload"] != "encode" || len(enc.Tolerations) != 1 {
		t.Errorf("encode scheduling values not applied: %v %v", enc.NodeSelector, enc.Tolerations)
	}
	for _, target := range targets {
		spec := m.deployment(release + "-" + target).Spec.Template.Spec
		if len(spec.ImagePullSecrets) != 1 || spec.ImagePullSecrets[0].Name != "registry-credentials" {
			t.Errorf("%s: imagePullSecrets = %v", target, spec.ImagePullSecrets)
		}
		for _, c := range spec.TopologySpreadConstraints {
			if c.LabelSelector == nil || c.LabelSelector.MatchLabels["app.kubernetes.io/component"] != target {
				t.Errorf("%s: spread constraint does not select its own pods: %+v", target, c.LabelSelector)
			}
		}
	}
}

// checkChart asserts what must hold of every render of the chart.
func checkChart(t *testing.T, m manifests, want chartRender) {
	t.Helper()
	cm := m.configMap(release + "-config")
	if cm == nil {
		t.Fatalf("no ConfigMap %s-config", release)
	}

	// One Deployment per target, running `serve --target=<target>`.
	for _, target := range targets {
		d := m.deployment(release + "-" + target)
		if d == nil {
			t.Errorf("no Deployment for target %s", target)
			continue
		}
		cs := d.Spec.Template.Spec.Containers
		if len(cs) != 1 || !slices.Equal(cs[0].Args, []string{"serve", "--target=" + target}) {
			t.Errorf("Deployment %s does not run `serve --target=%s`: %+v", d.Name, target, cs)
			continue
		}
		isEncodeImage := strings.Contains(cs[0].Image, "encode")
		if isEncodeImage != (target == "encode") {
			t.Errorf("Deployment %s runs image %s: only encode needs the ffmpeg image", d.Name, cs[0].Image)
		}
	}
	if n := len(all[appsv1.Deployment](m)); n != len(targets) {
		t.Errorf("%d Deployments, want %d", n, len(targets))
	}

	checkPodsRestricted(t, m)
	checkDeploymentProbes(t, m)
	checkProbePortsDeclared(t, m)
	checkServicesSelectPods(t, m)
	checkGRPCServices(t, m, cm, want)
	checkScaling(t, m, want)
	checkMigration(t, m, want)
	checkSecretsStayInSecrets(t, m, want)
	checkOptionalObjects(t, m, want)
	checkNetworkPolicies(t, m, want)
	checkInternalKey(t, m, want)

	for _, w := range m.workloads() {
		for _, c := range append(slices.Clone(w.Spec.InitContainers), w.Spec.Containers...) {
			if !imagePinned(c.Image) {
				t.Errorf("%s container %s: image %q is not pinned to a tag or digest", w.Name, c.Name, c.Image)
			}
		}
	}
	// The binary listens for its admin endpoints on loopback unless told
	// otherwise; in a pod Prometheus and the kubelet come from outside it,
	// so the chart must say where.
	var proc config.Process
	if err := config.Defaults(&proc); err != nil {
		t.Fatal(err)
	}
	if host, _, err := net.SplitHostPort(proc.AdminAddr); err != nil || !net.ParseIP(host).IsLoopback() {
		t.Errorf("the binary's default admin address %q is not loopback", proc.AdminAddr)
	}
	if host, _, err := net.SplitHostPort(cm.Data["CLOUDFLIX_ADMIN_ADDR"]); err != nil || (host != "" && (host == "localhost" || net.ParseIP(host).IsLoopback())) {
		t.Errorf("the chart's CLOUDFLIX_ADMIN_ADDR %q is not reachable from outside the pod", cm.Data["CLOUDFLIX_ADMIN_ADDR"])
	}
	if wd := cm.Data["CLOUDFLIX_ENCODE_WORKDIR"]; wd == "" || !mountsEmptyDir(m.deployment(release+"-encode"), wd) {
		t.Errorf("the encode work dir %q is not an emptyDir mount", wd)
	}
}

func mountsEmptyDir(d *appsv1.Deployment, path string) bool {
	spec := d.Spec.Template.Spec
	for _, vm := range spec.Containers[0].VolumeMounts {
		if vm.MountPath != path {
			continue
		}
		for _, v := range spec.Volumes {
			if v.Name == vm.Name && v.EmptyDir != nil {
				return true
			}
		}
	}
	return false
}

// checkPodsRestricted: every pod (Deployments, the migration Job, the test
// Pod) runs under the restricted security profile with resources set, and
// gets no API token.
func checkPodsRestricted(t *testing.T, m manifests) {
	t.Helper()
	for _, w := range m.workloads() {
		psc := w.Spec.SecurityContext
		switch {
		case psc == nil:
			t.Errorf("%s: no pod securityContext", w.Name)
		case psc.RunAsNonRoot == nil || !*psc.RunAsNonRoot,
			psc.RunAsUser == nil || *psc.RunAsUser != 65532,
			psc.SeccompProfile == nil || psc.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault:
			t.Errorf("%s: pod securityContext not restricted: %+v", w.Name, psc)
		}
		if w.Spec.AutomountServiceAccountToken == nil || *w.Spec.AutomountServiceAccountToken {
			t.Errorf("%s: mounts a service account token it does not need", w.Name)
		}
		for _, c := range append(slices.Clone(w.Spec.InitContainers), w.Spec.Containers...) {
			sc := c.SecurityContext
			switch {
			case sc == nil:
				t.Errorf("%s container %s: no securityContext", w.Name, c.Name)
			case sc.RunAsNonRoot == nil || !*sc.RunAsNonRoot,
				sc.RunAsUser == nil || *sc.RunAsUser != 65532,
				sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem,
				sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation,
				sc.Capabilities == nil || !slices.Equal(sc.Capabilities.Drop, []corev1.Capability{"ALL"}) || len(sc.Capabilities.Add) > 0,
				sc.SeccompProfile == nil || sc.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault:
				t.Errorf("%s container %s: securityContext not restricted: %+v", w.Name, c.Name, sc)
			}
			r := c.Resources
			if r.Requests.Cpu().IsZero() || r.Requests.Memory().IsZero() || r.Limits.Memory().IsZero() {
				t.Errorf("%s container %s: needs cpu and memory requests and a memory limit, has %+v", w.Name, c.Name, r)
			}
			if r.Limits.Memory().Cmp(*r.Requests.Memory()) < 0 {
				t.Errorf("%s container %s: memory limit below its request", w.Name, c.Name)
			}
		}
	}
}

// checkDeploymentProbes: every long-running container has startup,
// liveness and readiness probes; the router's are HTTP on /healthz and
// /readyz, the gRPC services' native gRPC health checks.
func checkDeploymentProbes(t *testing.T, m manifests) {
	t.Helper()
	for _, d := range all[appsv1.Deployment](m) {
		target := d.Spec.Template.Labels["app.kubernetes.io/component"]
		for _, c := range d.Spec.Template.Spec.Containers {
			if c.ReadinessProbe == nil || c.LivenessProbe == nil || c.StartupProbe == nil {
				t.Errorf("Deployment %s container %s: needs readiness, liveness and startup probes", d.Name, c.Name)
				continue
			}
			if target == "router" {
				if c.ReadinessProbe.HTTPGet == nil || c.ReadinessProbe.HTTPGet.Path != "/readyz" ||
					c.LivenessProbe.HTTPGet == nil || c.LivenessProbe.HTTPGet.Path != "/healthz" {
					t.Errorf("router probes are not HTTP /readyz and /healthz")
				}
				continue
			}
			for _, p := range []*corev1.Probe{c.ReadinessProbe, c.LivenessProbe, c.StartupProbe} {
				if p.GRPC == nil {
					t.Errorf("Deployment %s: a probe is not a native gRPC health check: %+v", d.Name, p.ProbeHandler)
				}
			}
		}
	}
}

// checkGRPCServices: the gRPC services are headless, and the router dials
// each through its headless Service on its gRPC port.
func checkGRPCServices(t *testing.T, m manifests, cm *corev1.ConfigMap, want chartRender) {
	t.Helper()
	for _, svc := range all[corev1.Service](m) {
		grpc := slices.ContainsFunc(svc.Spec.Ports, func(p corev1.ServicePort) bool { return p.Name == "grpc" })
		if grpc && svc.Spec.ClusterIP != corev1.ClusterIPNone {
			t.Errorf("Service %s carries gRPC but is not headless (clusterIP %q)", svc.Name, svc.Spec.ClusterIP)
		}
	}
	if r := m.service(release + "-router"); r == nil || r.Spec.ClusterIP == corev1.ClusterIPNone {
		t.Errorf("the router needs a ClusterIP Service")
	}
	if want.dialsElsewhere {
		return
	}
	for _, target := range targets[1:] {
		key := "CLOUDFLIX_" + strings.ToUpper(target) + "_TARGET"
		dial := cm.Data[key]
		want := fmt.Sprintf("dns:///%s-%s.%s.svc.cluster.local:", release, target, namespace)
		if !strings.HasPrefix(dial, want) {
			t.Errorf("%s = %q, want the headless Service %s…", key, dial, want)
			continue
		}
		svc := m.service(release + "-" + target)
		if svc == nil {
			t.Errorf("no Service for %s", target)
			continue
		}
		_, port, _ := net.SplitHostPort(strings.TrimPrefix(dial, "dns:///"))
		if !slices.ContainsFunc(svc.Spec.Ports, func(p corev1.ServicePort) bool { return p.Name == "grpc" && fmt.Sprint(p.Port) == port }) {
			t.Errorf("%s dials port %s, which Service %s does not serve", key, port, svc.Name)
		}
	}
}

// checkScaling: HPAs and KEDA target existing Deployments, a scaled
// Deployment leaves its replicas to them, and PDBs select pods.
func checkScaling(t *testing.T, m manifests, want chartRender) {
	t.Helper()
	scaled := map[string]bool{}
	hpas := all[autoscalingv2.HorizontalPodAutoscaler](m)
	if len(hpas) != want.hpas {
		t.Errorf("%d HPAs, want %d", len(hpas), want.hpas)
	}
	for _, h := range hpas {
		ref := h.Spec.ScaleTargetRef
		if ref.Kind != "Deployment" || ref.APIVersion != "apps/v1" || m.deployment(ref.Name) == nil {
			t.Errorf("HPA %s targets %s %s, which is not a rendered Deployment", h.Name, ref.Kind, ref.Name)
		}
		if h.Spec.MinReplicas == nil || *h.Spec.MinReplicas > h.Spec.MaxReplicas || len(h.Spec.Metrics) == 0 {
			t.Errorf("HPA %s: replicas %v..%d with %d metrics", h.Name, h.Spec.MinReplicas, h.Spec.MaxReplicas, len(h.Spec.Metrics))
		}
		scaled[ref.Name] = true
	}
	sos := all[scaledObject](m)
	if (len(sos) > 0) != want.keda {
		t.Errorf("%d KEDA ScaledObjects, want keda=%v", len(sos), want.keda)
	}
	auths := all[triggerAuthentication](m)
	for _, so := range sos {
		ref := so.Spec.ScaleTargetRef
		if m.deployment(ref.Name) == nil || ref.Name != release+"-encode" {
			t.Errorf("ScaledObject %s targets %s, not the encode Deployment", so.Metadata.Name, ref.Name)
		}
		scaled[ref.Name] = true
		for _, tr := range so.Spec.Triggers {
			if tr.Type != "rabbitmq" || tr.Metadata["mode"] != "QueueLength" || tr.Metadata["value"] == "" {
				t.Errorf("ScaledObject trigger is not a RabbitMQ queue length: %+v", tr)
			}
			if q := tr.Metadata["queueName"]; q != defaultOf("CLOUDFLIX_AMQP_QUEUE") {
				t.Errorf("ScaledObject watches queue %q, the workers consume %q", q, defaultOf("CLOUDFLIX_AMQP_QUEUE"))
			}
			if tr.AuthenticationRef == nil || !slices.ContainsFunc(auths, func(a *triggerAuthentication) bool { return a.Metadata.Name == tr.AuthenticationRef.Name }) {
				t.Errorf("ScaledObject trigger authenticates with %+v, which is not rendered", tr.AuthenticationRef)
			}
		}
	}
	for _, a := range auths {
		for _, ref := range a.Spec.SecretTargetRef {
			checkSecretKey(t, m, want, "TriggerAuthentication "+a.Metadata.Name, ref.Name, ref.Key)
		}
	}
	for _, d := range all[appsv1.Deployment](m) {
		if scaled[d.Name] != (d.Spec.Replicas == nil) {
			t.Errorf("Deployment %s: autoscaled=%v but replicas=%v", d.Name, scaled[d.Name], d.Spec.Replicas)
		}
	}
	pdbs := all[policyv1.PodDisruptionBudget](m)
	for _, p := range pdbs {
		if p.Spec.Selector == nil || !slices.ContainsFunc(all[appsv1.Deployment](m), func(d *appsv1.Deployment) bool {
			return selects(p.Spec.Selector.MatchLabels, d.Spec.Template.Labels)
		}) {
			t.Errorf("PodDisruptionBudget %s selects no pods", p.Name)
		}
		if (p.Spec.MinAvailable == nil) == (p.Spec.MaxUnavailable == nil) {
			t.Errorf("PodDisruptionBudget %s: needs exactly one of minAvailable and maxUnavailable", p.Name)
		}
	}
	if len(pdbs) != len(targets) {
		t.Errorf("%d PodDisruptionBudgets, want one per target", len(pdbs))
	}
}

func defaultOf(name string) string {
	for _, v := range allVariables() {
		if v.Name == name {
			return v.Default
		}
	}
	panic("no variable " + name)
}

// checkMigration: `cloudflix migrate` runs as a pre-install/pre-upgrade
// hook with the database URL from a Secret.
func checkMigration(t *testing.T, m manifests, want chartRender) {
	t.Helper()
	jobs := all[batchv1.Job](m)
	if len(jobs) != 1 {
		t.Fatalf("%d Jobs, want the migration", len(jobs))
	}
	j := jobs[0]
	hooks := strings.Split(j.Annotations["helm.sh/hook"], ",")
	if !slices.Contains(hooks, "pre-install") || !slices.Contains(hooks, "pre-upgrade") {
		t.Errorf("migration Job hooks = %q, want pre-install and pre-upgrade", j.Annotations["helm.sh/hook"])
	}
	if j.Annotations["helm.sh/hook-delete-policy"] == "" {
		t.Errorf("migration Job has no hook-delete-policy: a second upgrade would find it in the way")
	}
	c := j.Spec.Template.Spec.Containers
	if len(c) != 1 || !slices.Equal(c[0].Args, []string{"migrate"}) {
		t.Fatalf("migration Job does not run `cloudflix migrate`: %+v", c)
	}
	if j.Spec.Template.Spec.RestartPolicy != corev1.RestartPolicyNever && j.Spec.Template.Spec.RestartPolicy != corev1.RestartPolicyOnFailure {
		t.Errorf("migration Job restartPolicy %q", j.Spec.Template.Spec.RestartPolicy)
	}
	i := slices.IndexFunc(c[0].Env, func(e corev1.EnvVar) bool { return e.Name == "CLOUDFLIX_POSTGRES_URL" })
	if i < 0 || c[0].Env[i].ValueFrom == nil || c[0].Env[i].ValueFrom.SecretKeyRef == nil {
		t.Fatalf("migration Job does not read CLOUDFLIX_POSTGRES_URL from a Secret")
	}
	ref := c[0].Env[i].ValueFrom.SecretKeyRef
	if want.existingSecret == "" {
		// Hooks run before the release's objects exist: its Secret must be
		// a hook too, created before the Job.
		s := m.secret(ref.Name)
		if s == nil || s.Annotations["helm.sh/hook"] != j.Annotations["helm.sh/hook"] || s.Annotations["helm.sh/hook-weight"] >= j.Annotations["helm.sh/hook-weight"] {
			t.Errorf("the migration's Secret %s is not a hook created before the Job", ref.Name)
		}
	}
	checkSecretKey(t, m, want, "migration Job", ref.Name, ref.Key)
}

// checkInternalKey: every Deployment reads the internal key from one and
// the same Secret key and cannot start without it; a key the chart keeps
// is 32 bytes or more in hex.
func checkInternalKey(t *testing.T, m manifests, want chartRender) {
	t.Helper()
	var first *corev1.SecretKeySelector
	for _, d := range all[appsv1.Deployment](m) {
		env := d.Spec.Template.Spec.Containers[0].Env
		i := slices.IndexFunc(env, func(e corev1.EnvVar) bool { return e.Name == "CLOUDFLIX_INTERNAL_KEY" })
		if i < 0 || env[i].ValueFrom == nil || env[i].ValueFrom.SecretKeyRef == nil {
			t.Errorf("Deployment %s does not read CLOUDFLIX_INTERNAL_KEY from a Secret", d.Name)
			continue
		}
		ref := env[i].ValueFrom.SecretKeyRef
		if ref.Optional != nil && *ref.Optional {
			t.Errorf("Deployment %s: the internal key is optional, and a pod without it cannot serve", d.Name)
		}
		if first == nil {
			first = ref
		} else if ref.Name != first.Name || ref.Key != first.Key {
			t.Errorf("Deployment %s reads the internal key from %s/%s, another pod from %s/%s", d.Name, ref.Name, ref.Key, first.Name, first.Key)
		}
	}
	if first == nil || want.existingSecret != "" {
		return
	}
	if s := m.secret(first.Name); s != nil {
		if key, err := hex.DecodeString(string(s.Data[first.Key])); err != nil || len(key) < 32 {
			t.Errorf("Secret %s: the internal key is not 32 bytes or more in hex (%v)", s.Name, err)
		}
	}
}

// TestChartMakesAnInternalKey: without a key in values, each render without
// a cluster to keep one from makes a new random key.
func TestChartMakesAnInternalKey(t *testing.T) {
	t.Parallel()
	var keys []string
	for range 2 {
		s := render(t).secret(release + "-backends")
		if s == nil {
			t.Fatalf("no Secret %s-backends", release)
		}
		keys = append(keys, string(s.Data["CLOUDFLIX_INTERNAL_KEY"]))
	}
	if keys[0] == keys[1] {
		t.Errorf("two renders made the same internal key %s: it is not random", keys[0])
	}
}

// checkSecretKey: a reference to a Secret key names a rendered Secret that
// has the key, or the operator's existing Secret.
func checkSecretKey(t *testing.T, m manifests, want chartRender, who, name, key string) {
	t.Helper()
	if want.existingSecret != "" && name == want.existingSecret {
		return
	}
	s := m.secret(name)
	if s == nil {
		t.Errorf("%s reads Secret %s, which is neither rendered nor the existing one", who, name)
		return
	}
	if _, ok := s.Data[key]; !ok {
		t.Errorf("%s reads key %s of Secret %s, which has no such key", who, key, name)
	}
}

// checkSecretsStayInSecrets: secret variables reach containers only as
// secretKeyRef, each pod gets only the ones its target reads, and no
// secret value is written into a ConfigMap or a plain env value.
func checkSecretsStayInSecrets(t *testing.T, m manifests, want chartRender) {
	t.Helper()
	secretVars := map[string]bool{}
	for _, v := range allVariables() {
		if v.Secret {
			secretVars[v.Name] = true
		}
	}
	var secretValues []string
	for _, s := range all[corev1.Secret](m) {
		for _, v := range s.Data {
			if len(v) > 0 {
				secretValues = append(secretValues, string(v))
			}
		}
	}
	leaks := func(s string) bool {
		return slices.ContainsFunc(secretValues, func(v string) bool { return strings.Contains(s, v) })
	}
	for _, cm := range all[corev1.ConfigMap](m) {
		for k, v := range cm.Data {
			if secretVars[k] || leaks(v) {
				t.Errorf("ConfigMap %s holds a secret in %s", cm.Name, k)
			}
		}
	}
	for _, w := range m.workloads() {
		target := w.Labels["app.kubernetes.io/component"]
		for _, c := range w.Spec.Containers {
			for _, e := range c.Env {
				if e.Value != "" && leaks(e.Value) {
					t.Errorf("%s container %s: env %s holds a secret value", w.Name, c.Name, e.Name)
				}
				if !secretVars[e.Name] {
					continue
				}
				if e.Value != "" || e.ValueFrom == nil || e.ValueFrom.SecretKeyRef == nil {
					t.Errorf("%s container %s: %s is not a secretKeyRef", w.Name, c.Name, e.Name)
					continue
				}
				if !slices.Contains(secretsOf[target], e.Name) {
					t.Errorf("%s container %s: gets %s, which its target never uses", w.Name, c.Name, e.Name)
				}
				checkSecretKey(t, m, want, w.Name, e.ValueFrom.SecretKeyRef.Name, e.ValueFrom.SecretKeyRef.Key)
			}
			for _, ef := range c.EnvFrom {
				if ef.SecretRef != nil {
					t.Errorf("%s container %s: envFrom a whole Secret; credentials go one by one as secretKeyRef", w.Name, c.Name)
				}
				if ef.ConfigMapRef != nil && m.configMap(ef.ConfigMapRef.Name) == nil {
					t.Errorf("%s container %s: envFrom ConfigMap %s, which is not rendered", w.Name, c.Name, ef.ConfigMapRef.Name)
				}
			}
		}
	}
}

// checkOptionalObjects: the Ingress, ServiceMonitor and HTTPRoute point at
// rendered Services and ports.
func checkOptionalObjects(t *testing.T, m manifests, want chartRender) {
	t.Helper()
	ings := all[networkingv1.Ingress](m)
	if want.ingressTLS && (len(ings) != 1 || len(ings[0].Spec.TLS) == 0) {
		t.Errorf("want an Ingress with TLS, have %d Ingresses", len(ings))
	}
	for _, ing := range ings {
		for _, rule := range ing.Spec.Rules {
			for _, p := range rule.HTTP.Paths {
				b := p.Backend.Service
				svc := m.service(b.Name)
				if svc == nil || !slices.ContainsFunc(svc.Spec.Ports, func(sp corev1.ServicePort) bool {
					return (b.Port.Name != "" && sp.Name == b.Port.Name) || (b.Port.Number != 0 && sp.Port == b.Port.Number)
				}) {
					t.Errorf("Ingress %s routes to %s port %+v, which is not rendered", ing.Name, b.Name, b.Port)
				}
			}
		}
	}
	sms := all[serviceMonitor](m)
	if (len(sms) == 1) != want.serviceMonitor {
		t.Errorf("%d ServiceMonitors, want serviceMonitor=%v", len(sms), want.serviceMonitor)
	}
	for _, sm := range sms {
		var matched int
		for _, svc := range all[corev1.Service](m) {
			if !selects(sm.Spec.Selector.MatchLabels, svc.Labels) {
				continue
			}
			matched++
			for _, ep := range sm.Spec.Endpoints {
				if !slices.ContainsFunc(svc.Spec.Ports, func(p corev1.ServicePort) bool { return p.Name == ep.Port }) {
					t.Errorf("ServiceMonitor scrapes port %s, which Service %s lacks", ep.Port, svc.Name)
				}
			}
		}
		// monitor/ selects jobs cloudflix-<target> and needs the series'
		// own service label intact.
		for _, ep := range sm.Spec.Endpoints {
			var job, dropsService bool
			for _, r := range ep.Relabelings {
				job = job || (r.TargetLabel == "job" && r.Replacement == "cloudflix-$1" &&
					slices.Equal(r.SourceLabels, []string{"__meta_kubernetes_service_label_app_kubernetes_io_component"}))
				dropsService = dropsService || (r.Action == "labeldrop" && r.Regex == "service")
			}
			if !job || !dropsService {
				t.Errorf("ServiceMonitor endpoint %s: job named cloudflix-<target>: %v, service target label dropped: %v", ep.Port, job, dropsService)
			}
		}
		if matched != len(targets) {
			t.Errorf("ServiceMonitor selects %d Services, want all %d", matched, len(targets))
		}
	}
	for _, r := range all[httpRoute](m) {
		for _, rule := range r.Spec.Rules {
			for _, b := range rule.BackendRefs {
				svc := m.service(b.Name)
				if svc == nil || !slices.ContainsFunc(svc.Spec.Ports, func(p corev1.ServicePort) bool { return p.Port == b.Port }) {
					t.Errorf("HTTPRoute routes to %s:%d, which is not rendered", b.Name, b.Port)
				}
			}
		}
	}
	var tests int
	for _, p := range all[corev1.Pod](m) {
		if p.Annotations["helm.sh/hook"] == "test" {
			tests++
			cmd := strings.Join(p.Spec.Containers[0].Command, " ")
			if !strings.Contains(cmd, release+"-router") || !strings.Contains(cmd, "/readyz") {
				t.Errorf("helm test pod does not fetch the router's /readyz: %s", cmd)
			}
		}
	}
	if tests != 1 {
		t.Errorf("%d helm test pods, want 1", tests)
	}
}
