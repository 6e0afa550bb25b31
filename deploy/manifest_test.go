package deploy

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"
)

// object is one decoded manifest: its kind and the typed value.
type object struct {
	APIVersion, Kind, Name string
	Value                  any
}

// manifests is a decoded multi-document stream with typed lookups.
type manifests []object

// Objects of kinds that k8s.io/api does not have are decoded into these
// structs, as strictly as the built-in kinds: a field the struct does not
// know fails the test.

type serviceMonitor struct {
	metav1.TypeMeta `json:",inline"`
	Metadata        metav1.ObjectMeta `json:"metadata"`
	Spec            struct {
		Selector          metav1.LabelSelector `json:"selector"`
		NamespaceSelector *struct {
			MatchNames []string `json:"matchNames,omitempty"`
		} `json:"namespaceSelector,omitempty"`
		Endpoints []struct {
			Port          string `json:"port"`
			Path          string `json:"path,omitempty"`
			Interval      string `json:"interval,omitempty"`
			ScrapeTimeout string `json:"scrapeTimeout,omitempty"`
			HonorLabels   bool   `json:"honorLabels,omitempty"`
			Relabelings   []struct {
				Action       string   `json:"action,omitempty"`
				SourceLabels []string `json:"sourceLabels,omitempty"`
				Regex        string   `json:"regex,omitempty"`
				TargetLabel  string   `json:"targetLabel,omitempty"`
				Replacement  string   `json:"replacement,omitempty"`
			} `json:"relabelings,omitempty"`
		} `json:"endpoints"`
	} `json:"spec"`
}

type scaledObject struct {
	metav1.TypeMeta `json:",inline"`
	Metadata        metav1.ObjectMeta `json:"metadata"`
	Spec            struct {
		ScaleTargetRef struct {
			APIVersion string `json:"apiVersion,omitempty"`
			Kind       string `json:"kind,omitempty"`
			Name       string `json:"name"`
		} `json:"scaleTargetRef"`
		MinReplicaCount *int32 `json:"minReplicaCount,omitempty"`
		MaxReplicaCount *int32 `json:"maxReplicaCount,omitempty"`
		PollingInterval *int32 `json:"pollingInterval,omitempty"`
		CooldownPeriod  *int32 `json:"cooldownPeriod,omitempty"`
		Triggers        []struct {
			Type              string            `json:"type"`
			Metadata          map[string]string `json:"metadata"`
			AuthenticationRef *struct {
				Name string `json:"name"`
			} `json:"authenticationRef,omitempty"`
		} `json:"triggers"`
	} `json:"spec"`
}

type triggerAuthentication struct {
	metav1.TypeMeta `json:",inline"`
	Metadata        metav1.ObjectMeta `json:"metadata"`
	Spec            struct {
		SecretTargetRef []struct {
			Parameter string `json:"parameter"`
			Name      string `json:"name"`
			Key       string `json:"key"`
		} `json:"secretTargetRef"`
	} `json:"spec"`
}

type httpRoute struct {
	metav1.TypeMeta `json:",inline"`
	Metadata        metav1.ObjectMeta `json:"metadata"`
	Spec            struct {
		ParentRefs []struct {
			Group       string `json:"group,omitempty"`
			Kind        string `json:"kind,omitempty"`
			Namespace   string `json:"namespace,omitempty"`
			Name        string `json:"name"`
			SectionName string `json:"sectionName,omitempty"`
			Port        *int32 `json:"port,omitempty"`
		} `json:"parentRefs"`
		Hostnames []string `json:"hostnames,omitempty"`
		Rules     []struct {
			Matches []struct {
				Path *struct {
					Type  string `json:"type"`
					Value string `json:"value"`
				} `json:"path,omitempty"`
			} `json:"matches,omitempty"`
			BackendRefs []struct {
				Name string `json:"name"`
				Port int32  `json:"port"`
			} `json:"backendRefs"`
		} `json:"rules"`
	} `json:"spec"`
}

// newTyped returns a pointer to the Go type of an apiVersion and kind.
func newTyped(apiVersion, kind string) (any, bool) {
	switch apiVersion + " " + kind {
	case "v1 ConfigMap":
		return &corev1.ConfigMap{}, true
	case "v1 Secret":
		return &corev1.Secret{}, true
	case "v1 Service":
		return &corev1.Service{}, true
	case "v1 ServiceAccount":
		return &corev1.ServiceAccount{}, true
	case "v1 Pod":
		return &corev1.Pod{}, true
	case "v1 Namespace":
		return &corev1.Namespace{}, true
	case "v1 PersistentVolumeClaim":
		return &corev1.PersistentVolumeClaim{}, true
	case "apps/v1 Deployment":
		return &appsv1.Deployment{}, true
	case "apps/v1 StatefulSet":
		return &appsv1.StatefulSet{}, true
	case "batch/v1 Job":
		return &batchv1.Job{}, true
	case "autoscaling/v2 HorizontalPodAutoscaler":
		return &autoscalingv2.HorizontalPodAutoscaler{}, true
	case "policy/v1 PodDisruptionBudget":
		return &policyv1.PodDisruptionBudget{}, true
	case "networking.k8s.io/v1 Ingress":
		return &networkingv1.Ingress{}, true
	case "networking.k8s.io/v1 NetworkPolicy":
		return &networkingv1.NetworkPolicy{}, true
	case "rbac.authorization.k8s.io/v1 Role":
		return &rbacv1.Role{}, true
	case "rbac.authorization.k8s.io/v1 RoleBinding":
		return &rbacv1.RoleBinding{}, true
	case "monitoring.coreos.com/v1 ServiceMonitor":
		return &serviceMonitor{}, true
	case "keda.sh/v1alpha1 ScaledObject":
		return &scaledObject{}, true
	case "keda.sh/v1alpha1 TriggerAuthentication":
		return &triggerAuthentication{}, true
	case "gateway.networking.k8s.io/v1 HTTPRoute":
		return &httpRoute{}, true
	}
	return nil, false
}

// decodeManifests splits a multi-document YAML stream and decodes every
// document strictly into the type its apiVersion and kind name.
func decodeManifests(data []byte) (manifests, error) {
	r := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(data)))
	var out manifests
	for {
		doc, err := r.Read()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("split YAML: %w", err)
		}
		var head struct {
			APIVersion string `json:"apiVersion"`
			Kind       string `json:"kind"`
			Metadata   struct {
				Name string `json:"name"`
			} `json:"metadata"`
		}
		if err := yaml.Unmarshal(doc, &head); err != nil {
			return nil, fmt.Errorf("read kind: %w\n%s", err, doc)
		}
		if head.Kind == "" && head.APIVersion == "" {
			if len(bytes.TrimSpace(stripComments(doc))) == 0 {
				continue // an empty document: a template that rendered nothing
			}
			return nil, fmt.Errorf("document without apiVersion and kind:\n%s", doc)
		}
		v, ok := newTyped(head.APIVersion, head.Kind)
		if !ok {
			return nil, fmt.Errorf("%s %s %q: no Go type known for it", head.APIVersion, head.Kind, head.Metadata.Name)
		}
		if err := yaml.UnmarshalStrict(doc, v); err != nil {
			return nil, fmt.Errorf("%s %q: strict decode: %w", head.Kind, head.Metadata.Name, err)
		}
		out = append(out, object{APIVersion: head.APIVersion, Kind: head.Kind, Name: head.Metadata.Name, Value: v})
	}
}

func stripComments(doc []byte) []byte {
	var b bytes.Buffer
	for _, line := range strings.Split(string(doc), "\n") {
		if !strings.HasPrefix(strings.TrimSpace(line), "#") {
			b.WriteString(line + "\n")
		}
	}
	return b.Bytes()
}

// all returns the objects of one Go type.
func all[T any](m manifests) []*T {
	var out []*T
	for _, o := range m {
		if v, ok := o.Value.(*T); ok {
			out = append(out, v)
		}
	}
	return out
}

func (m manifests) deployment(name string) *appsv1.Deployment {
	for _, d := range all[appsv1.Deployment](m) {
		if d.Name == name {
			return d
		}
	}
	return nil
}

func (m manifests) service(name string) *corev1.Service {
	for _, s := range all[corev1.Service](m) {
		if s.Name == name {
			return s
		}
	}
	return nil
}

func (m manifests) configMap(name string) *corev1.ConfigMap {
	for _, c := range all[corev1.ConfigMap](m) {
		if c.Name == name {
			return c
		}
	}
	return nil
}

func (m manifests) secret(name string) *corev1.Secret {
	for _, s := range all[corev1.Secret](m) {
		if s.Name == name {
			return s
		}
	}
	return nil
}

// selects reports whether every label of selector is on labels.
func selects(selector, labels map[string]string) bool {
	if len(selector) == 0 {
		return false
	}
	for k, v := range selector {
		if labels[k] != v {
			return false
		}
	}
	return true
}

// workload is a pod template and what owns it, for checks that apply to
// every pod the manifests make.
type workload struct {
	Name   string
	Labels map[string]string
	Spec   *corev1.PodSpec
}

func (m manifests) workloads() []workload {
	var out []workload
	for _, d := range all[appsv1.Deployment](m) {
		out = append(out, workload{"Deployment " + d.Name, d.Spec.Template.Labels, &d.Spec.Template.Spec})
	}
	for _, s := range all[appsv1.StatefulSet](m) {
		out = append(out, workload{"StatefulSet " + s.Name, s.Spec.Template.Labels, &s.Spec.Template.Spec})
	}
	for _, j := range all[batchv1.Job](m) {
		out = append(out, workload{"Job " + j.Name, j.Spec.Template.Labels, &j.Spec.Template.Spec})
	}
	for _, p := range all[corev1.Pod](m) {
		out = append(out, workload{"Pod " + p.Name, p.Labels, &p.Spec})
	}
	return out
}

// declaresPort reports whether a container declares port p (by name or
// number).
func declaresPort(c corev1.Container, p intstr.IntOrString) bool {
	for _, cp := range c.Ports {
		if p.Type == intstr.String && cp.Name == p.StrVal {
			return true
		}
		if p.Type == intstr.Int && cp.ContainerPort == p.IntVal {
			return true
		}
	}
	return false
}

// probePort is the port a probe checks.
func probePort(p *corev1.Probe) (intstr.IntOrString, bool) {
	switch {
	case p.HTTPGet != nil:
		return p.HTTPGet.Port, true
	case p.TCPSocket != nil:
		return p.TCPSocket.Port, true
	case p.GRPC != nil:
		return intstr.FromInt32(p.GRPC.Port), true
	}
	return intstr.IntOrString{}, false
}

// checkServicesSelectPods: every Service selects the pods of some
// workload, and every targetPort is a port those pods' containers declare.
func checkServicesSelectPods(t *testing.T, m manifests) {
	t.Helper()
	for _, svc := range all[corev1.Service](m) {
		var matched []workload
		for _, w := range m.workloads() {
			if selects(svc.Spec.Selector, w.Labels) {
				matched = append(matched, w)
			}
		}
		if len(matched) == 0 {
			t.Errorf("Service %s: selector %v matches no pods", svc.Name, svc.Spec.Selector)
			continue
		}
		for _, w := range matched {
			for _, p := range svc.Spec.Ports {
				target := p.TargetPort
				if target.Type == intstr.Int && target.IntVal == 0 {
					target = intstr.FromInt32(p.Port) // an unset targetPort is the port
				}
				if !slices.ContainsFunc(w.Spec.Containers, func(c corev1.Container) bool { return declaresPort(c, target) }) {
					t.Errorf("Service %s port %s: targetPort %s is not declared by %s", svc.Name, p.Name, target.String(), w.Name)
				}
			}
		}
	}
}

// checkProbePortsDeclared: every port a probe names is a declared port.
func checkProbePortsDeclared(t *testing.T, m manifests) {
	t.Helper()
	for _, w := range m.workloads() {
		for _, c := range w.Spec.Containers {
			for kind, p := range map[string]*corev1.Probe{"readiness": c.ReadinessProbe, "liveness": c.LivenessProbe, "startup": c.StartupProbe} {
				if p == nil {
					continue
				}
				if port, ok := probePort(p); ok && !declaresPort(c, port) {
					t.Errorf("%s container %s: %s probe port %s is not declared", w.Name, c.Name, kind, port.String())
				}
			}
		}
	}
}

// imagePinned reports whether an image reference names a tag other than
// latest, or a digest.
func imagePinned(ref string) bool {
	if strings.Contains(ref, "@sha256:") {
		return true
	}
	last := ref[strings.LastIndex(ref, "/")+1:]
	i := strings.LastIndex(last, ":")
	if i < 0 {
		return false
	}
	tag := last[i+1:]
	return tag != "" && tag != "latest"
}
