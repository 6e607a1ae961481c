package deploy

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	"sigs.k8s.io/yaml"
)

// object is one decoded manifest document.
type object struct {
	file string
	kind string
	name string
	obj  any
}

// decodeAll decodes every document of every file in kubernetes/ strictly
// into its Kubernetes API type: an unknown or misspelt field, or a value
// of the wrong type, is an error, as `kubectl apply --validate=strict`
// would make it.
func decodeAll(t *testing.T) []object {
	t.Helper()
	files, err := filepath.Glob("kubernetes/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no manifests: %v", err)
	}
	var out []object
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for i, doc := range regexp.MustCompile(`(?m)^---\s*$`).Split(string(data), -1) {
			if strings.TrimSpace(stripComments(doc)) == "" {
				continue
			}
			var meta struct {
				APIVersion string `json:"apiVersion"`
				Kind       string `json:"kind"`
			}
			if err := yaml.Unmarshal([]byte(doc), &meta); err != nil {
				t.Fatalf("%s document %d: %v", f, i, err)
			}
			var obj any
			switch meta.APIVersion + "/" + meta.Kind {
			case "apps/v1/Deployment":
				obj = &appsv1.Deployment{}
			case "v1/Service":
				obj = &corev1.Service{}
			case "v1/ConfigMap":
				obj = &corev1.ConfigMap{}
			case "policy/v1/PodDisruptionBudget":
				obj = &policyv1.PodDisruptionBudget{}
			case "monitoring.coreos.com/v1/PrometheusRule":
				obj = &prometheusRule{}
			default:
				t.Fatalf("%s document %d: unexpected %s %s", f, i, meta.APIVersion, meta.Kind)
			}
			if err := yaml.UnmarshalStrict([]byte(doc), obj); err != nil {
				t.Fatalf("%s document %d (%s): %v", f, i, meta.Kind, err)
			}
			name := ""
			switch o := obj.(type) {
			case *appsv1.Deployment:
				name = o.Name
			case *corev1.Service:
				name = o.Name
			case *corev1.ConfigMap:
				name = o.Name
			case *policyv1.PodDisruptionBudget:
				name = o.Name
			case *prometheusRule:
				name = o.Name
			}
			out = append(out, object{file: f, kind: meta.Kind, name: name, obj: obj})
		}
	}
	return out
}

func stripComments(doc string) string {
	var b strings.Builder
	for _, l := range strings.Split(doc, "\n") {
		if !strings.HasPrefix(strings.TrimSpace(l), "#") {
			b.WriteString(l + "\n")
		}
	}
	return b.String()
}

func find[T any](t *testing.T, objs []object, kind, name string) T {
	t.Helper()
	for _, o := range objs {
		if o.kind == kind && o.name == name {
			return o.obj.(T)
		}
	}
	var zero T
	t.Fatalf("no %s %s", kind, name)
	return zero
}

func TestManifestsDecodeStrictly(t *testing.T) {
	objs := decodeAll(t)
	want := []string{"ConfigMap/directoryd-policy", "Deployment/directoryd", "Service/directoryd", "PodDisruptionBudget/directoryd",
		"Deployment/directoryd-redis", "Service/directoryd-redis", "PrometheusRule/directoryd"}
	var got []string
	for _, o := range objs {
		got = append(got, o.kind+"/"+o.name)
	}
	for _, w := range want {
		if !slices.Contains(got, w) {
			t.Errorf("missing %s (have %v)", w, got)
		}
	}
}

// TestUnknownFieldIsRefused: the strict decoding really refuses a
// misspelt field (so the test above can fail).
func TestUnknownFieldIsRefused(t *testing.T) {
	doc := "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: x}\nspec:\n  replica: 3\n"
	if err := yaml.UnmarshalStrict([]byte(doc), &appsv1.Deployment{}); err == nil {
		t.Fatal("a misspelt field (replica) decoded without error")
	}
}

// TestDeployment checks what the fleet relies on: three replicas spread
// over zones and nodes, probes on the plaintext probe port (kubelet cannot
// present a client certificate), no dev mode, a non-root read-only
// container, and a grace period longer than the drain.
func TestDeployment(t *testing.T) {
	objs := decodeAll(t)
	d := find[*appsv1.Deployment](t, objs, "Deployment", "directoryd")
	if d.Spec.Replicas == nil || *d.Spec.Replicas != 3 {
		t.Errorf("replicas %v, want 3", d.Spec.Replicas)
	}
	pod := d.Spec.Template.Spec
	if len(pod.TopologySpreadConstraints) == 0 {
		t.Error("no topology spread")
	}
	if len(pod.Containers) != 1 {
		t.Fatalf("%d containers", len(pod.Containers))
	}
	c := pod.Containers[0]
	args := map[string]string{}
	for _, a := range c.Args {
		k, v, _ := strings.Cut(strings.TrimPrefix(a, "--"), "=")
		args[k] = v
	}
	if _, dev := args["dev"]; dev {
		t.Error("the Deployment runs --dev")
	}
	for _, flag := range []string{"upstream-url", "tls-cert", "tls-key", "client-ca", "policy", "probe-addr", "shutdown-timeout"} {
		if args[flag] == "" {
			t.Errorf("no --%s", flag)
		}
	}
	ports := map[string]int32{}
	for _, p := range c.Ports {
		ports[p.Name] = p.ContainerPort
	}
	probePort := ports["probes"]
	if want := fmt.Sprintf(":%d", probePort); args["probe-addr"] != want {
		t.Errorf("--probe-addr %q, probes port %d", args["probe-addr"], probePort)
	}
	if rp := c.ReadinessProbe; rp == nil || rp.GRPC == nil || rp.GRPC.Port != probePort || rp.GRPC.Service == nil || *rp.GRPC.Service != "procore.directory.v1.DirectoryService" {
		t.Errorf("readiness probe %+v: want native gRPC health of DirectoryService on the probe port", rp)
	}
	if lp := c.LivenessProbe; lp == nil || lp.HTTPGet == nil || lp.HTTPGet.Path != "/healthz" || lp.HTTPGet.Port.String() != "probes" {
		t.Errorf("liveness probe %+v: want GET /healthz on the probe port", lp)
	}
	sc := c.SecurityContext
	if sc == nil || sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem || sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation {
		t.Errorf("container securityContext %+v", sc)
	}
	if psc := pod.SecurityContext; psc == nil || psc.RunAsNonRoot == nil || !*psc.RunAsNonRoot {
		t.Error("pod may run as root")
	}
	if c.Resources.Requests.Cpu().IsZero() || c.Resources.Limits.Memory().IsZero() {
		t.Errorf("resources %+v", c.Resources)
	}
	drain, err := time.ParseDuration(args["shutdown-timeout"])
	if err != nil {
		t.Fatal(err)
	}
	var preStop time.Duration
	if ls := c.Lifecycle; ls != nil && ls.PreStop != nil && ls.PreStop.Sleep != nil {
		preStop = time.Duration(ls.PreStop.Sleep.Seconds) * time.Second
	}
	if g := pod.TerminationGracePeriodSeconds; g == nil || time.Duration(*g)*time.Second <= drain+preStop+time.Second {
		t.Errorf("terminationGracePeriodSeconds %v must exceed --shutdown-timeout %v + preStop %v + 1s to answer the calls cut at the deadline", g, drain, preStop)
	}
	for _, e := range c.EnvFrom {
		if e.SecretRef == nil {
			t.Errorf("envFrom %+v: credentials come from Secrets", e)
		}
	}

	svc := find[*corev1.Service](t, objs, "Service", "directoryd")
	protos := map[string]string{}
	for _, p := range svc.Spec.Ports {
		if p.AppProtocol != nil {
			protos[p.Name] = *p.AppProtocol
		}
	}
	if protos["grpc"] != "grpc" || protos["https"] == "" {
		t.Errorf("Service appProtocols %v", protos)
	}
	pdb := find[*policyv1.PodDisruptionBudget](t, objs, "PodDisruptionBudget", "directoryd")
	if pdb.Spec.MinAvailable == nil || pdb.Spec.MinAvailable.IntValue() < 1 || pdb.Spec.MinAvailable.IntValue() >= 3 {
		t.Errorf("PDB minAvailable %v", pdb.Spec.MinAvailable)
	}
}

// TestFlagsExist builds directoryd and checks that every flag the
// Deployment passes is one directoryd knows (a renamed flag would make the
// pods crash-loop).
func TestFlagsExist(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "directoryd")
	build := exec.Command("go", "build", "-o", bin, "./cmd/directoryd")
	build.Dir = ".."
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	help, _ := exec.Command(bin, "-h").CombinedOutput()
	d := find[*appsv1.Deployment](t, decodeAll(t), "Deployment", "directoryd")
	// The fleet shares its state: the Redis URL, and its password from the
	// Secret (never in the args).
	c := d.Spec.Template.Spec.Containers[0]
	if !slices.Contains(c.Args, "--redis-url=redis://directoryd-redis:6379/0") {
		t.Error("the Deployment passes no --redis-url")
	}
	if !slices.ContainsFunc(c.Env, func(e corev1.EnvVar) bool {
		return e.Name == "DIRECTORYD_REDIS_PASSWORD" && e.ValueFrom != nil && e.ValueFrom.SecretKeyRef != nil &&
			e.ValueFrom.SecretKeyRef.Name == "directoryd-redis"
	}) {
		t.Error("DIRECTORYD_REDIS_PASSWORD does not come from the directoryd-redis Secret")
	}
	for _, a := range d.Spec.Template.Spec.Containers[0].Args {
		name, _, _ := strings.Cut(strings.TrimPrefix(a, "--"), "=")
		if !bytes.Contains(help, []byte("  -"+name+" ")) && !bytes.Contains(help, []byte("  -"+name+"\n")) {
			t.Errorf("directoryd has no flag -%s", name)
		}
	}
}
