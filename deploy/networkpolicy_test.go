package deploy

import (
	"fmt"
	"net/netip"
	"slices"
	"testing"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// peer is where a connection comes from: a pod, with its namespace and
// labels, or an address outside the cluster (no namespace).
type peer struct {
	name      string
	namespace string
	labels    map[string]string
	ip        netip.Addr
}

// namespaceLabels are the labels Kubernetes puts on every namespace.
func (p peer) namespaceLabels() labels.Set {
	return labels.Set{"kubernetes.io/metadata.name": p.namespace}
}

// The peers the tests send connections from, besides the release's pods.
var (
	defaultScraper = peer{name: "Prometheus in namespace monitoring", namespace: "monitoring",
		labels: map[string]string{"app.kubernetes.io/name": "prometheus"}, ip: netip.MustParseAddr("10.244.9.1")}
	ingressController = peer{name: "the ingress controller", namespace: "ingress-nginx",
		labels: map[string]string{"app.kubernetes.io/name": "ingress-nginx"}, ip: netip.MustParseAddr("10.244.9.2")}
	strangers = []peer{
		{name: "another app's pod in the release's namespace", namespace: namespace,
			labels: map[string]string{"app.kubernetes.io/name": "other"}, ip: netip.MustParseAddr("10.244.9.3")},
		{name: "a pod in another namespace", namespace: "elsewhere",
			labels: map[string]string{"app.kubernetes.io/name": "other"}, ip: netip.MustParseAddr("10.244.9.4")},
		{name: "a client outside the cluster", ip: netip.MustParseAddr("203.0.113.7")},
	}
)

// admitted reports whether the NetworkPolicies of namespace let src open a
// TCP connection to port of a pod there with podLabels and containers, as
// networking/v1 defines it: a pod that no ingress policy selects takes
// anything; one that some select takes what any of their rules admits.
func admitted(pols []*networkingv1.NetworkPolicy, src peer, podLabels map[string]string, containers []corev1.Container, port int32) (bool, error) {
	isolated := false
	for _, pol := range pols {
		if len(pol.Spec.PolicyTypes) > 0 && !slices.Contains(pol.Spec.PolicyTypes, networkingv1.PolicyTypeIngress) {
			continue
		}
		sel, err := metav1.LabelSelectorAsSelector(&pol.Spec.PodSelector)
		if err != nil {
			return false, fmt.Errorf("NetworkPolicy %s: %w", pol.Name, err)
		}
		if !sel.Matches(labels.Set(podLabels)) {
			continue
		}
		isolated = true
		for _, rule := range pol.Spec.Ingress {
			from, err := peersAdmit(rule.From, src)
			if err != nil {
				return false, fmt.Errorf("NetworkPolicy %s: %w", pol.Name, err)
			}
			if from && portsAdmit(rule.Ports, containers, port) {
				return true, nil
			}
		}
	}
	return !isolated, nil
}

// peersAdmit: a rule without peers admits every source; otherwise one peer
// must match it.
func peersAdmit(from []networkingv1.NetworkPolicyPeer, src peer) (bool, error) {
	if len(from) == 0 {
		return true, nil
	}
	for _, p := range from {
		if p.IPBlock != nil {
			cidr, err := netip.ParsePrefix(p.IPBlock.CIDR)
			if err != nil {
				return false, err
			}
			excepted := false
			for _, e := range p.IPBlock.Except {
				ex, err := netip.ParsePrefix(e)
				if err != nil {
					return false, err
				}
				excepted = excepted || ex.Contains(src.ip)
			}
			if cidr.Contains(src.ip) && !excepted {
				return true, nil
			}
			continue
		}
		if src.namespace == "" {
			continue // selectors pick pods, never addresses outside the cluster
		}
		// Without a namespaceSelector, a podSelector picks pods of the
		// policy's own namespace.
		inNamespace := src.namespace == namespace
		if p.NamespaceSelector != nil {
			sel, err := metav1.LabelSelectorAsSelector(p.NamespaceSelector)
			if err != nil {
				return false, err
			}
			inNamespace = sel.Matches(src.namespaceLabels())
		}
		podMatches := true
		if p.PodSelector != nil {
			sel, err := metav1.LabelSelectorAsSelector(p.PodSelector)
			if err != nil {
				return false, err
			}
			podMatches = sel.Matches(labels.Set(src.labels))
		}
		if inNamespace && podMatches {
			return true, nil
		}
	}
	return false, nil
}

// portsAdmit: a rule without ports admits every port; a named port is the
// destination container's port of that name.
func portsAdmit(ports []networkingv1.NetworkPolicyPort, containers []corev1.Container, port int32) bool {
	if len(ports) == 0 {
		return true
	}
	for _, p := range ports {
		if p.Protocol != nil && *p.Protocol != corev1.ProtocolTCP {
			continue
		}
		switch {
		case p.Port == nil:
			return true
		case p.Port.Type == intstr.Int:
			end := p.Port.IntVal
			if p.EndPort != nil {
				end = *p.EndPort
			}
			if port >= p.Port.IntVal && port <= end {
				return true
			}
		default:
			for _, c := range containers {
				if slices.ContainsFunc(c.Ports, func(cp corev1.ContainerPort) bool {
					return cp.Name == p.Port.StrVal && cp.ContainerPort == port
				}) {
					return true
				}
			}
		}
	}
	return false
}

// undeclaredPort is a port no CloudFlix container listens on: nothing may
// reach it, which shows that the policies deny by default.
const undeclaredPort = 1

// checkNetworkPolicies tries every connection the policies decide on: from
// each pod of the release, from Prometheus, from the ingress controller and
// from strangers, to every declared port of every pod of the release and
// to one undeclared port. The router's HTTP port must admit anyone, or only
// want.httpFrom and the `helm test` pod; each service's gRPC port only the
// router; the admin port only the scraper; nothing else anything.
func checkNetworkPolicies(t *testing.T, m manifests, want chartRender) {
	t.Helper()
	pols := all[networkingv1.NetworkPolicy](m)
	if want.noNetworkPolicies {
		if len(pols) > 0 {
			t.Errorf("%d NetworkPolicies rendered with networkPolicy.enabled false", len(pols))
		}
		return
	}
	if len(pols) == 0 {
		t.Fatal("no NetworkPolicies")
	}
	scraper := defaultScraper
	if want.scraper != nil {
		scraper = *want.scraper
	}

	workloads := m.workloads()
	for _, pol := range pols {
		if !slices.Equal(pol.Spec.PolicyTypes, []networkingv1.PolicyType{networkingv1.PolicyTypeIngress}) {
			t.Errorf("NetworkPolicy %s: policyTypes %v; egress must stay open for the backends", pol.Name, pol.Spec.PolicyTypes)
		}
		sel, err := metav1.LabelSelectorAsSelector(&pol.Spec.PodSelector)
		if err != nil {
			t.Fatalf("NetworkPolicy %s: %v", pol.Name, err)
		}
		if !slices.ContainsFunc(workloads, func(w workload) bool { return sel.Matches(labels.Set(w.Labels)) }) {
			t.Errorf("NetworkPolicy %s selects no pod of the release", pol.Name)
		}
	}

	component := func(labels map[string]string) string { return labels["app.kubernetes.io/component"] }
	sources := append([]peer{scraper}, strangers...)
	if want.httpFrom != nil {
		sources = append(sources, *want.httpFrom)
	}
	for i, w := range workloads {
		sources = append(sources, peer{name: w.Name, namespace: namespace, labels: w.Labels,
			ip: netip.AddrFrom4([4]byte{10, 244, 1, byte(i + 1)})})
	}
	isPod := func(src peer, comp string) bool {
		return src.namespace == namespace && component(src.labels) == comp &&
			slices.ContainsFunc(workloads, func(w workload) bool { return w.Name == src.name })
	}
	for _, dst := range workloads {
		type port struct {
			name   string
			number int32
		}
		ports := []port{{"an undeclared port", undeclaredPort}}
		for _, c := range dst.Spec.Containers {
			for _, cp := range c.Ports {
				ports = append(ports, port{cp.Name, cp.ContainerPort})
			}
		}
		for _, p := range ports {
			for _, src := range sources {
				var expect bool
				switch {
				case p.name == "http" && component(dst.Labels) == "router":
					expect = want.httpFrom == nil || src.name == want.httpFrom.name || isPod(src, "test")
				case p.name == "grpc":
					expect = isPod(src, "router")
				case p.name == "admin":
					expect = src.name == scraper.name
				}
				got, err := admitted(pols, src, dst.Labels, dst.Spec.Containers, p.number)
				if err != nil {
					t.Fatal(err)
				}
				if got != expect {
					t.Errorf("%s → %s port %s (%d): admitted %v, want %v", src.name, dst.Name, p.name, p.number, got, expect)
				}
			}
		}
	}
}

func TestChartNetworkPolicySwitches(t *testing.T) {
	t.Parallel()
	cases := map[string]struct {
		values string
		want   chartRender
	}{
		"off": {"networkPolicy:\n  enabled: false\n", chartRender{noNetworkPolicies: true}},
		// The scraper in the release's own namespace (no
		// namespaceSelector); the router's HTTP port open to the ingress
		// controller's namespace only.
		"narrowed": {`
networkPolicy:
  http:
    from:
      - namespaceSelector:
          matchLabels:
            kubernetes.io/metadata.name: ingress-nginx
  metrics:
    from:
      - podSelector:
          matchExpressions:
            - {key: app.kubernetes.io/name, operator: In, values: [prometheus, vmagent]}
`, chartRender{
			httpFrom: &ingressController,
			scraper: &peer{name: "Prometheus in the release's namespace", namespace: namespace,
				labels: map[string]string{"app.kubernetes.io/name": "vmagent"}, ip: netip.MustParseAddr("10.244.9.5")},
		}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			checkChart(t, render(t, writeValues(t, tc.values)), tc.want)
		})
	}
}

// TestNetworkPolicyEvaluator holds admitted to the semantics the chart
// relies on, so that a lenient evaluator cannot make the chart look tight.
func TestNetworkPolicyEvaluator(t *testing.T) {
	t.Parallel()
	tcp := corev1.ProtocolTCP
	port := func(p intstr.IntOrString) []networkingv1.NetworkPolicyPort {
		return []networkingv1.NetworkPolicyPort{{Protocol: &tcp, Port: &p}}
	}
	web := map[string]string{"app": "web"}
	api := map[string]string{"app": "api"}
	containers := []corev1.Container{{Ports: []corev1.ContainerPort{{Name: "grpc", ContainerPort: 9090}}}}
	pod := func(ns string, l map[string]string) peer {
		return peer{name: ns, namespace: ns, labels: l, ip: netip.MustParseAddr("10.244.0.9")}
	}
	outside := peer{name: "outside", ip: netip.MustParseAddr("198.51.100.1")}
	policy := func(rules ...networkingv1.NetworkPolicyIngressRule) *networkingv1.NetworkPolicy {
		return &networkingv1.NetworkPolicy{Spec: networkingv1.NetworkPolicySpec{
			PodSelector: metav1.LabelSelector{MatchLabels: api},
			PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeIngress},
			Ingress:     rules,
		}}
	}
	fromWeb := networkingv1.NetworkPolicyPeer{PodSelector: &metav1.LabelSelector{MatchLabels: web}}
	anyNamespace := networkingv1.NetworkPolicyPeer{NamespaceSelector: &metav1.LabelSelector{}, PodSelector: &metav1.LabelSelector{MatchLabels: web}}
	cases := []struct {
		name   string
		pols   []*networkingv1.NetworkPolicy
		src    peer
		port   int32
		expect bool
	}{
		{"no policy selects the pod", nil, outside, 9090, true},
		{"a policy without rules", []*networkingv1.NetworkPolicy{policy()}, pod(namespace, web), 9090, false},
		{"a podSelector peer, same namespace", []*networkingv1.NetworkPolicy{policy(networkingv1.NetworkPolicyIngressRule{From: []networkingv1.NetworkPolicyPeer{fromWeb}})}, pod(namespace, web), 9090, true},
		{"a podSelector peer, other namespace", []*networkingv1.NetworkPolicy{policy(networkingv1.NetworkPolicyIngressRule{From: []networkingv1.NetworkPolicyPeer{fromWeb}})}, pod("elsewhere", web), 9090, false},
		{"a podSelector peer, other labels", []*networkingv1.NetworkPolicy{policy(networkingv1.NetworkPolicyIngressRule{From: []networkingv1.NetworkPolicyPeer{fromWeb}})}, pod(namespace, api), 9090, false},
		{"namespaceSelector {} and podSelector", []*networkingv1.NetworkPolicy{policy(networkingv1.NetworkPolicyIngressRule{From: []networkingv1.NetworkPolicyPeer{anyNamespace}})}, pod("elsewhere", web), 9090, true},
		{"selectors never pick an outside address", []*networkingv1.NetworkPolicy{policy(networkingv1.NetworkPolicyIngressRule{From: []networkingv1.NetworkPolicyPeer{anyNamespace}})}, outside, 9090, false},
		{"an ipBlock", []*networkingv1.NetworkPolicy{policy(networkingv1.NetworkPolicyIngressRule{From: []networkingv1.NetworkPolicyPeer{{IPBlock: &networkingv1.IPBlock{CIDR: "198.51.100.0/24"}}}})}, outside, 9090, true},
		{"an ipBlock's exception", []*networkingv1.NetworkPolicy{policy(networkingv1.NetworkPolicyIngressRule{From: []networkingv1.NetworkPolicyPeer{{IPBlock: &networkingv1.IPBlock{CIDR: "198.51.100.0/24", Except: []string{"198.51.100.0/30"}}}}})}, outside, 9090, false},
		{"no peers: anyone, on the port", []*networkingv1.NetworkPolicy{policy(networkingv1.NetworkPolicyIngressRule{Ports: port(intstr.FromInt32(9090))})}, outside, 9090, true},
		{"no peers: anyone, but not on another port", []*networkingv1.NetworkPolicy{policy(networkingv1.NetworkPolicyIngressRule{Ports: port(intstr.FromInt32(9090))})}, outside, 9100, false},
		{"a named port", []*networkingv1.NetworkPolicy{policy(networkingv1.NetworkPolicyIngressRule{Ports: port(intstr.FromString("grpc"))})}, outside, 9090, true},
		{"a named port the pod lacks", []*networkingv1.NetworkPolicy{policy(networkingv1.NetworkPolicyIngressRule{Ports: port(intstr.FromString("http"))})}, outside, 9090, false},
		{"policies add up", []*networkingv1.NetworkPolicy{policy(), policy(networkingv1.NetworkPolicyIngressRule{From: []networkingv1.NetworkPolicyPeer{fromWeb}})}, pod(namespace, web), 9090, true},
		{"an egress-only policy does not isolate ingress", []*networkingv1.NetworkPolicy{{Spec: networkingv1.NetworkPolicySpec{
			PodSelector: metav1.LabelSelector{MatchLabels: api}, PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeEgress}}}}, outside, 9090, true},
	}
	for _, tc := range cases {
		got, err := admitted(tc.pols, tc.src, api, containers, tc.port)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if got != tc.expect {
			t.Errorf("%s: admitted %v, want %v", tc.name, got, tc.expect)
		}
	}
}
