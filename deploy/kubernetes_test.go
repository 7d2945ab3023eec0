package deploy

import (
	"path/filepath"
	"slices"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/labels"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/yaml"
)

// manifests is one kustomization built and decoded strictly into the
// Kubernetes API types: a misspelt field fails, as `kubectl apply
// --validate=strict` would.
type manifests struct {
	statefulSets []*appsv1.StatefulSet
	services     []*corev1.Service
	configMaps   []*corev1.ConfigMap
	secrets      []*corev1.Secret
	pvcs         []*corev1.PersistentVolumeClaim
	accounts     []*corev1.ServiceAccount
	namespaces   []*corev1.Namespace
	jobs         []*batchv1.Job
	ingresses    []*networkingv1.Ingress
	pdbs         []*policyv1.PodDisruptionBudget
	hpas         []*autoscalingv2.HorizontalPodAutoscaler
}

func build(t *testing.T, dir string) manifests {
	t.Helper()
	k := krusty.MakeKustomizer(krusty.MakeDefaultOptions())
	rm, err := k.Run(filesys.MakeFsOnDisk(), filepath.Join(repoRoot, "deploy", "kubernetes", dir))
	if err != nil {
		t.Fatalf("kustomize build %s: %v", dir, err)
	}
	var m manifests
	for _, r := range rm.Resources() {
		y, err := r.AsYAML()
		if err != nil {
			t.Fatal(err)
		}
		var obj any
		switch r.GetKind() {
		case "StatefulSet":
			o := &appsv1.StatefulSet{}
			m.statefulSets, obj = append(m.statefulSets, o), o
		case "Service":
			o := &corev1.Service{}
			m.services, obj = append(m.services, o), o
		case "ConfigMap":
			o := &corev1.ConfigMap{}
			m.configMaps, obj = append(m.configMaps, o), o
		case "Secret":
			o := &corev1.Secret{}
			m.secrets, obj = append(m.secrets, o), o
		case "PersistentVolumeClaim":
			o := &corev1.PersistentVolumeClaim{}
			m.pvcs, obj = append(m.pvcs, o), o
		case "ServiceAccount":
			o := &corev1.ServiceAccount{}
			m.accounts, obj = append(m.accounts, o), o
		case "Namespace":
			o := &corev1.Namespace{}
			m.namespaces, obj = append(m.namespaces, o), o
		case "Job":
			o := &batchv1.Job{}
			m.jobs, obj = append(m.jobs, o), o
		case "Ingress":
			o := &networkingv1.Ingress{}
			m.ingresses, obj = append(m.ingresses, o), o
		case "PodDisruptionBudget":
			o := &policyv1.PodDisruptionBudget{}
			m.pdbs, obj = append(m.pdbs, o), o
		case "HorizontalPodAutoscaler":
			o := &autoscalingv2.HorizontalPodAutoscaler{}
			m.hpas, obj = append(m.hpas, o), o
		default:
			t.Fatalf("%s: kind %s is not checked by this test; add it", r.CurId(), r.GetKind())
		}
		if err := yaml.UnmarshalStrict(y, obj); err != nil {
			t.Fatalf("%s %s does not decode into the Kubernetes API type: %v", r.GetKind(), r.GetName(), err)
		}
	}
	return m
}

func TestKubernetesBase(t *testing.T)       { checkManifests(t, build(t, "base"), 2) }
func TestKubernetesProduction(t *testing.T) { checkManifests(t, build(t, "overlays/production"), 3) }

func checkManifests(t *testing.T, m manifests, replicas int32) {
	if len(m.statefulSets) != 1 {
		t.Fatalf("want one portal StatefulSet, got %d", len(m.statefulSets))
	}
	ss := m.statefulSets[0]
	pod := ss.Spec.Template
	podLabels := labels.Set(pod.Labels)
	if ss.Spec.Replicas == nil || *ss.Spec.Replicas != replicas {
		t.Errorf("StatefulSet replicas %v, want %d", ss.Spec.Replicas, replicas)
	}
	sel := labels.SelectorFromSet(ss.Spec.Selector.MatchLabels)
	if !sel.Matches(podLabels) {
		t.Error("the StatefulSet's selector does not match its pods")
	}
	if ss.Spec.ServiceName == "" || !slices.ContainsFunc(m.services, func(s *corev1.Service) bool {
		return s.Name == ss.Spec.ServiceName && s.Spec.ClusterIP == corev1.ClusterIPNone
	}) {
		t.Errorf("StatefulSet's governing service %q is missing or not headless", ss.Spec.ServiceName)
	}

	// Pod security: non-root, read-only root, no capabilities, seccomp.
	psc := pod.Spec.SecurityContext
	if psc == nil || psc.RunAsNonRoot == nil || !*psc.RunAsNonRoot || psc.SeccompProfile == nil {
		t.Error("pod must run as non-root with a seccomp profile")
	}
	if pod.Spec.Affinity == nil || pod.Spec.Affinity.PodAntiAffinity == nil {
		t.Error("pods should prefer different nodes (anti-affinity)")
	}
	if len(pod.Spec.Containers) != 1 {
		t.Fatalf("want one container, got %d", len(pod.Spec.Containers))
	}
	c := pod.Spec.Containers[0]
	checkContainer(t, "portal", c)
	if c.StartupProbe == nil || c.LivenessProbe == nil || c.ReadinessProbe == nil {
		t.Fatal("the portal needs startup, liveness and readiness probes")
	}
	if c.ReadinessProbe.HTTPGet == nil || c.ReadinessProbe.HTTPGet.Path != "/readyz" {
		t.Error("readiness should ask /readyz (database and broker reachable)")
	}
	if c.LivenessProbe.HTTPGet == nil || c.LivenessProbe.HTTPGet.Path != "/healthz" {
		t.Error("liveness should ask /healthz (a database outage must not restart pods)")
	}
	if c.Resources.Requests.Cpu().IsZero() || c.Resources.Requests.Memory().IsZero() || c.Resources.Limits.Memory().IsZero() {
		t.Error("the portal needs CPU and memory requests and a memory limit")
	}

	// Everything the pod refers to exists.
	refs := func(name string, list []string) {
		if !slices.Contains(list, name) {
			t.Errorf("the pod refers to %q, which the manifests do not define (have %v)", name, list)
		}
	}
	names := func(n int, f func(int) string) []string {
		var out []string
		for i := range n {
			out = append(out, f(i))
		}
		return out
	}
	cms := names(len(m.configMaps), func(i int) string { return m.configMaps[i].Name })
	secrets := names(len(m.secrets), func(i int) string { return m.secrets[i].Name })
	pvcs := names(len(m.pvcs), func(i int) string { return m.pvcs[i].Name })
	for _, v := range pod.Spec.Volumes {
		switch {
		case v.ConfigMap != nil:
			refs(v.ConfigMap.Name, cms)
		case v.PersistentVolumeClaim != nil:
			refs(v.PersistentVolumeClaim.ClaimName, pvcs)
		}
	}
	for _, ef := range c.EnvFrom {
		if ef.SecretRef != nil {
			refs(ef.SecretRef.Name, secrets)
		}
	}
	refs(pod.Spec.ServiceAccountName, names(len(m.accounts), func(i int) string { return m.accounts[i].Name }))

	// The configuration the pod starts with is one the portal accepts.
	env := map[string]string{}
	var envNames []string
	for _, e := range c.Env {
		envNames = append(envNames, e.Name)
		env[e.Name] = e.Value
		if e.ValueFrom != nil {
			env[e.Name] = "portal-0"
		}
	}
	for _, s := range m.secrets {
		for k, v := range s.StringData {
			envNames = append(envNames, k)
			env[k] = v
		}
	}
	if bad := unknownEnv(envNames); len(bad) > 0 {
		t.Errorf("the pod sets variables the portal does not read: %v", bad)
	}
	if len(m.configMaps) != 1 {
		t.Fatalf("want one ConfigMap, got %d", len(m.configMaps))
	}
	cfg := loadConfig(t, m.configMaps[0].Data["production.yaml"], env)
	if cfg.Mode != "production" || cfg.UsesSQLite() || cfg.MQTT.URL == "" {
		t.Errorf("the cluster's configuration should be production on PostgreSQL with an external broker, got mode %q", cfg.Mode)
	}
	if cfg.Messages.BlobDir == "" || !slices.ContainsFunc(c.VolumeMounts, func(vm corev1.VolumeMount) bool { return vm.MountPath == cfg.Messages.BlobDir }) {
		t.Errorf("messages.blob_dir %q must be a shared volume, or attachments stored by one pod are missing on another", cfg.Messages.BlobDir)
	}

	// Services, PDB and HPA reach these pods.
	var web *corev1.Service
	for _, s := range m.services {
		if s.Spec.ClusterIP != corev1.ClusterIPNone {
			web = s
		}
		if !labels.SelectorFromSet(s.Spec.Selector).Matches(podLabels) {
			t.Errorf("service %s selects no portal pod", s.Name)
		}
	}
	if web == nil {
		t.Fatal("no Service in front of the portal")
	}
	if len(m.ingresses) != 1 || m.ingresses[0].Spec.Rules[0].HTTP.Paths[0].Backend.Service.Name != web.Name {
		t.Error("the Ingress should route to the portal Service")
	}
	if len(m.pdbs) != 1 {
		t.Fatal("want a PodDisruptionBudget")
	}
	if s, err := metaSelector(m.pdbs[0].Spec.Selector.MatchLabels); err != nil || !s.Matches(podLabels) {
		t.Error("the PodDisruptionBudget selects no portal pod")
	}
	if len(m.hpas) != 1 {
		t.Fatal("want a HorizontalPodAutoscaler")
	}
	h := m.hpas[0]
	if h.Spec.ScaleTargetRef.Kind != "StatefulSet" || h.Spec.ScaleTargetRef.Name != ss.Name {
		t.Errorf("the autoscaler targets %s/%s, not the portal", h.Spec.ScaleTargetRef.Kind, h.Spec.ScaleTargetRef.Name)
	}
	if h.Spec.MinReplicas == nil || *h.Spec.MinReplicas != replicas {
		t.Errorf("the autoscaler's minimum %v should equal the StatefulSet's %d replicas", h.Spec.MinReplicas, replicas)
	}

	// Migrations run as a Job of the same image.
	if len(m.jobs) != 1 {
		t.Fatal("want the migration Job")
	}
	jc := m.jobs[0].Spec.Template.Spec.Containers[0]
	if jc.Image != c.Image || len(jc.Args) == 0 || jc.Args[0] != "migrate" {
		t.Errorf("the migration Job should run `portal migrate` from the portal's image %q, got %q %v", c.Image, jc.Image, jc.Args)
	}
	checkContainer(t, "migrate", jc)
}

func checkContainer(t *testing.T, name string, c corev1.Container) {
	t.Helper()
	sc := c.SecurityContext
	if sc == nil || sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem {
		t.Errorf("%s: root file system must be read-only", name)
	}
	if sc == nil || sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation {
		t.Errorf("%s: privilege escalation must be off", name)
	}
	if sc == nil || sc.Capabilities == nil || !slices.Contains(sc.Capabilities.Drop, "ALL") {
		t.Errorf("%s: drop every capability", name)
	}
}

func metaSelector(ml map[string]string) (labels.Selector, error) {
	return labels.SelectorFromSet(ml), nil
}
