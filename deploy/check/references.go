package main

import (
	"errors"
	"fmt"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// CheckReferences finds what strict decoding cannot: objects of one render that point at each
// other by name, label or port and miss. The API server accepts most of these and the chart is
// then silently broken (a Service with no endpoints, a PDB that protects nothing).
func CheckReferences(objects []Object) error {
	index := newRenderIndex(objects)
	var problems []error
	fail := func(object Object, format string, args ...any) {
		problems = append(problems, fmt.Errorf("%s (%s %s): %s", object.Source, object.Kind,
			object.Name, fmt.Sprintf(format, args...)))
	}
	for _, object := range objects {
		switch value := object.Value.(type) {
		case *appsv1.Deployment:
			checkWorkload(object, value.Spec.Selector, value.Spec.Template, index, fail)
		case *appsv1.StatefulSet:
			checkWorkload(object, value.Spec.Selector, value.Spec.Template, index, fail)
			if service := index.services[value.Spec.ServiceName]; service == nil ||
				service.Spec.ClusterIP != corev1.ClusterIPNone {
				fail(object, "serviceName %q is not a rendered headless Service", value.Spec.ServiceName)
			}
		case *batchv1.Job:
			checkPod(object, value.Spec.Template.Spec, index, fail)
		case *corev1.Service:
			checkService(object, value, index, fail)
		case *policyv1.PodDisruptionBudget:
			if !index.selectsSomePod(value.Spec.Selector) {
				fail(object, "selector %v matches no rendered pod template", value.Spec.Selector)
			}
		case *autoscalingv2.HorizontalPodAutoscaler:
			ref := value.Spec.ScaleTargetRef
			if ref.Kind != "Deployment" || index.deployments[ref.Name] == nil {
				fail(object, "scaleTargetRef %s/%s is not a rendered Deployment", ref.Kind, ref.Name)
			}
		case *networkingv1.Ingress:
			checkIngress(object, value, index, fail)
		case *monitoringv1.ServiceMonitor:
			checkServiceMonitor(object, value, index, fail)
		case *monitoringv1.PrometheusRule:
			for _, group := range value.Spec.Groups {
				for _, rule := range group.Rules {
					if rule.Expr.String() == "" {
						fail(object, "rule %q in group %q has an empty expr", rule.Alert, group.Name)
					}
				}
			}
		}
	}
	return errors.Join(problems...)
}

type renderIndex struct {
	deployments map[string]*appsv1.Deployment
	services    map[string]*corev1.Service
	configMaps  map[string]bool
	accounts    map[string]bool
	pods        []corev1.PodTemplateSpec
}

func newRenderIndex(objects []Object) renderIndex {
	index := renderIndex{
		deployments: map[string]*appsv1.Deployment{},
		services:    map[string]*corev1.Service{},
		configMaps:  map[string]bool{},
		accounts:    map[string]bool{},
	}
	for _, object := range objects {
		switch value := object.Value.(type) {
		case *appsv1.Deployment:
			index.deployments[value.Name] = value
			index.pods = append(index.pods, value.Spec.Template)
		case *appsv1.StatefulSet:
			index.pods = append(index.pods, value.Spec.Template)
		case *corev1.Service:
			index.services[value.Name] = value
		case *corev1.ConfigMap:
			index.configMaps[value.Name] = true
		case *corev1.ServiceAccount:
			index.accounts[value.Name] = true
		}
	}
	return index
}

func (index renderIndex) selectsSomePod(selector *metav1.LabelSelector) bool {
	parsed, err := metav1.LabelSelectorAsSelector(selector)
	if err != nil || parsed.Empty() {
		return false
	}
	for _, pod := range index.pods {
		if parsed.Matches(labels.Set(pod.Labels)) {
			return true
		}
	}
	return false
}

type failFunc func(object Object, format string, args ...any)

func checkWorkload(object Object, selector *metav1.LabelSelector, template corev1.PodTemplateSpec,
	index renderIndex, fail failFunc) {
	parsed, err := metav1.LabelSelectorAsSelector(selector)
	if err != nil || parsed.Empty() || !parsed.Matches(labels.Set(template.Labels)) {
		// The API server rejects this one, but only at install time.
		fail(object, "selector %v does not match the pod template labels %v", selector, template.Labels)
	}
	checkPod(object, template.Spec, index, fail)
}

func checkPod(object Object, pod corev1.PodSpec, index renderIndex, fail failFunc) {
	if pod.ServiceAccountName != "" && len(index.accounts) > 0 && !index.accounts[pod.ServiceAccountName] {
		fail(object, "serviceAccountName %q is not rendered", pod.ServiceAccountName)
	}
	volumes := map[string]bool{}
	for _, volume := range pod.Volumes {
		volumes[volume.Name] = true
		// The chart's own config volume must name a ConfigMap of the same render; extra volumes
		// may name objects the user manages.
		if volume.Name == "config" && volume.ConfigMap != nil && !index.configMaps[volume.ConfigMap.Name] {
			fail(object, "volume %q mounts ConfigMap %q, which is not rendered", volume.Name,
				volume.ConfigMap.Name)
		}
	}
	for _, container := range append(append([]corev1.Container{}, pod.InitContainers...), pod.Containers...) {
		for _, mount := range container.VolumeMounts {
			if !volumes[mount.Name] {
				fail(object, "container %q mounts volume %q, which the pod does not declare",
					container.Name, mount.Name)
			}
		}
		for _, probe := range []*corev1.Probe{container.LivenessProbe, container.ReadinessProbe, container.StartupProbe} {
			if probe != nil && probe.HTTPGet != nil && !containerHasPort(container, probe.HTTPGet.Port) {
				fail(object, "container %q probes port %s, which it does not declare", container.Name,
					probe.HTTPGet.Port.String())
			}
		}
	}
}

func containerHasPort(container corev1.Container, port intstr.IntOrString) bool {
	for _, declared := range container.Ports {
		if (port.Type == intstr.String && declared.Name == port.StrVal) ||
			(port.Type == intstr.Int && declared.ContainerPort == port.IntVal) {
			return true
		}
	}
	return false
}

func checkService(object Object, service *corev1.Service, index renderIndex, fail failFunc) {
	if len(service.Spec.Selector) == 0 {
		fail(object, "service has no selector")
		return
	}
	selector := labels.SelectorFromSet(service.Spec.Selector)
	for _, pod := range index.pods {
		if !selector.Matches(labels.Set(pod.Labels)) {
			continue
		}
		for _, port := range service.Spec.Ports {
			found := false
			for _, container := range pod.Spec.Containers {
				found = found || containerHasPort(container, port.TargetPort)
			}
			if !found {
				fail(object, "targetPort %s is not a port of the selected pods", port.TargetPort.String())
			}
		}
		return
	}
	fail(object, "selector %v matches no rendered pod template", service.Spec.Selector)
}

func checkIngress(object Object, ingress *networkingv1.Ingress, index renderIndex, fail failFunc) {
	for _, rule := range ingress.Spec.Rules {
		if rule.HTTP == nil {
			continue
		}
		for _, path := range rule.HTTP.Paths {
			backend := path.Backend.Service
			if backend == nil {
				continue
			}
			service := index.services[backend.Name]
			if service == nil {
				fail(object, "backend service %q is not rendered", backend.Name)
				continue
			}
			if !serviceHasPort(service, backend.Port.Name, backend.Port.Number) {
				fail(object, "backend port %q/%d is not a port of service %q", backend.Port.Name,
					backend.Port.Number, backend.Name)
			}
		}
	}
}

func serviceHasPort(service *corev1.Service, name string, number int32) bool {
	for _, port := range service.Spec.Ports {
		if (name != "" && port.Name == name) || (name == "" && port.Port == number) {
			return true
		}
	}
	return false
}

func checkServiceMonitor(object Object, monitor *monitoringv1.ServiceMonitor, index renderIndex,
	fail failFunc) {
	selector, err := metav1.LabelSelectorAsSelector(&monitor.Spec.Selector)
	if err != nil || selector.Empty() {
		fail(object, "selector %v is empty or invalid", monitor.Spec.Selector)
		return
	}
	var selected []*corev1.Service
	for _, service := range index.services {
		if selector.Matches(labels.Set(service.Labels)) {
			selected = append(selected, service)
		}
	}
	if len(selected) == 0 {
		fail(object, "selector %v matches no rendered Service", monitor.Spec.Selector)
		return
	}
	for _, endpoint := range monitor.Spec.Endpoints {
		for _, service := range selected {
			if !serviceHasPort(service, endpoint.Port, 0) {
				fail(object, "endpoint port %q is not a port of selected service %q", endpoint.Port,
					service.Name)
			}
		}
	}
}
