"""The Helm chart: its values validate against values.schema.json, the schema refuses what would deploy a
broken or open instance, every value a template reads exists, and the objects an IT department expects are
there and point at each other (checked on the templates' YAML skeletons: Helm is not installed here)."""

from __future__ import annotations

import re
from typing import Any

import pytest

from backend.config import Settings
from tests.infra import chart

TEST_VALUES = chart.merged(chart.values(), chart.load_yaml(chart.CHART / "ci" / "test-values.yaml"))


def test_the_ci_values_validate_against_the_schema() -> None:
    assert chart.schema_errors(TEST_VALUES) == []


def test_the_defaults_alone_are_refused_for_want_of_the_required_values() -> None:
    errors = "\n".join(chart.schema_errors(chart.values()))
    for required in ("existingSecret", "publicBaseUrl", "database/host", "temporal/address", "storage/endpoint"):
        assert required in errors, required


@pytest.mark.parametrize(
    ("change", "path"),
    [
        ({"publicBaseUrl": "http://127.0.0.1:8000"}, "publicBaseUrl"),
        ({"publicBaseUrl": "http://localhost"}, "publicBaseUrl"),
        ({"publicBaseUrl": "liuguan.example.gov.cn"}, "publicBaseUrl"),
        ({"storage": {"driver": "gcs"}}, "storage/driver"),
        ({"temporal": {"address": "temporal-frontend"}}, "temporal/address"),
        ({"networkPolicy": {"ingressFrom": []}}, "networkPolicy/ingressFrom"),
        ({"api": {"autoscaling": {"targetCPUUtilizationPercentage": 170}}}, "api/autoscaling"),
        ({"metrics": {"prometheusRule": {"callbackFailureRatio": 2}}}, "metrics/prometheusRule"),
        ({"documentTemplates": {"persistence": {"size": "lots"}}}, "documentTemplates/persistence/size"),
        ({"databse": {"host": "typo.internal"}}, "Additional properties"),
    ],
)
def test_the_schema_refuses_values_that_would_deploy_a_broken_instance(change: dict[str, Any], path: str) -> None:
    errors = chart.schema_errors(chart.merged(TEST_VALUES, change))
    assert any(path in error for error in errors), errors


def test_every_value_a_template_reads_exists_in_values_yaml() -> None:
    values = chart.values()
    missing = []
    for name, source in chart.template_sources().items():
        for path in chart.values_paths(source):
            node: Any = values
            for part in path:
                if not isinstance(node, dict) or part not in node:
                    missing.append(f"{name}: .Values.{'.'.join(path)}")
                    break
                node = node[part]
    assert missing == []


def test_every_included_template_is_defined() -> None:
    sources = chart.template_sources()
    defined = {m for text in sources.values() for m in re.findall(r'define "([^"]+)"', text)}
    used = {m for text in sources.values() for m in re.findall(r'include "([^"]+)"', text)}
    assert used - defined == set()


def test_the_chart_has_the_objects_an_it_department_expects() -> None:
    kinds = {doc["kind"] for docs in chart.documents().values() for doc in docs}
    assert {
        "Deployment",
        "Service",
        "Job",
        "ConfigMap",
        "Ingress",
        "PodDisruptionBudget",
        "NetworkPolicy",
        "HorizontalPodAutoscaler",
        "PersistentVolumeClaim",
        "ServiceMonitor",
        "PrometheusRule",
    } <= kinds


def _container(deployment: dict[str, Any]) -> dict[str, Any]:
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    return container


def test_the_worker_has_a_liveness_probe_on_a_port_it_declares() -> None:
    worker = _container(chart.named("Deployment", "-worker"))
    assert "livenessProbe" in worker
    ports = {port["name"] for port in worker["ports"]}
    assert chart.values()["worker"]["livenessProbe"]["httpGet"]["port"] in ports
    assert {"metrics", "sdk-metrics"} <= ports


def test_the_hpa_scales_the_api_deployment_and_the_pdbs_select_their_pods() -> None:
    hpa = chart.named("HorizontalPodAutoscaler", "-api")
    assert hpa["apiVersion"] == "autoscaling/v2"
    assert hpa["spec"]["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": "TEMPLATED-api"}
    for suffix in ("-api", "-worker"):
        pdb = chart.named("PodDisruptionBudget", suffix)
        assert pdb["apiVersion"] == "policy/v1"
        assert pdb["spec"]["selector"]["matchLabels"]["app.kubernetes.io/component"] == suffix.strip("-")


def test_network_policies_limit_egress_to_dns_postgres_temporal_and_the_object_store() -> None:
    source = chart.template_sources()["_helpers.tpl"]
    egress = source[source.index('define "liuguan.egressRules"') :]
    assert 'list "postgres" "temporal" "objectStore"' in egress
    assert set(chart.values()["networkPolicy"]["egress"]) == {"postgres", "temporal", "objectStore", "dns"}
    for suffix in ("-api", "-worker", "-migrate"):
        policy = chart.named("NetworkPolicy", suffix)
        assert policy["spec"]["policyTypes"] == ["Ingress", "Egress"]
    api_ports = {port["name"] for port in _container(chart.named("Deployment", "-api"))["ports"]}
    api_policy = chart.named("NetworkPolicy", "-api")
    assert {port["port"] for rule in api_policy["spec"]["ingress"] for port in rule["ports"]} <= api_ports


def test_service_monitors_scrape_ports_the_services_name() -> None:
    services = {doc["metadata"]["name"]: doc for doc in chart.by_kind("Service")}
    service_ports = {port["name"] for service in services.values() for port in service["spec"]["ports"]}
    monitors = chart.by_kind("ServiceMonitor")
    assert len(monitors) == 2
    scraped = {endpoint["port"] for monitor in monitors for endpoint in monitor["spec"]["endpoints"]}
    assert scraped == {"http", "metrics", "sdk-metrics"} and scraped <= service_ports
    api_monitor = chart.named("ServiceMonitor", "-api")
    assert api_monitor["spec"]["endpoints"][0]["authorization"]["credentials"]["key"] == "METRICS_TOKEN"


def test_the_document_templates_live_on_a_claim_mounted_where_the_settings_look() -> None:
    helpers = chart.template_sources()["_helpers.tpl"]
    assert 'DOCUMENT_TEMPLATES_DIR: "/srv/liuguan/templates"' in helpers
    assert "mountPath: /srv/liuguan/templates" in helpers
    claim = chart.by_kind("PersistentVolumeClaim")[0]
    assert claim["metadata"]["annotations"] == {"helm.sh/resource-policy": "keep"}


def test_every_setting_the_chart_passes_is_one_the_application_reads() -> None:
    helpers = chart.template_sources()["_helpers.tpl"]
    config = helpers[helpers.index('define "liuguan.config"') : helpers.index('define "liuguan.publicHost"')]
    names = set(re.findall(r"^([A-Z][A-Z0-9_]+):", config, re.MULTILINE))
    names |= set(re.findall(r'"([A-Z][A-Z0-9_]+)"', helpers)) | set(re.findall(r"- name: ([A-Z][A-Z0-9_]+)", helpers))
    names -= {"DATABASE_APP_PASSWORD", "DATABASE_OWNER_PASSWORD"}  # only assembled into the two URLs
    assert {"PUBLIC_BASE_URL", "DOCUMENT_TEMPLATES_DIR", "TEMPORAL_TLS", "TEMPORAL_API_KEY", "METRICS_TOKEN"} <= names
    assert {name for name in names if name.lower() not in Settings.model_fields} == set()
