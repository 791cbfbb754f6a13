"""The NATS permission table (sealflow_contracts.access) against the code: every subject has its publisher,
every subscriber a service registers is granted, every message a service builds is one it may publish, every
request/reply subject it calls is listed; the generated nats-server configuration is valid, and deploy/'s copy
is what the code generates. A new subject or consumer that is not entered in the table fails here."""

import base64
import importlib
import os
import re
import subprocess
from pathlib import Path

import pytest
from sealflow_cli.natsauth import (
    DEPLOY_AUTH_CONF,
    DEPLOY_HELM_VALUES,
    OPERATOR,
    ROUTE_USER,
    deploy_auth_conf,
    deploy_helm_values,
    env_name,
    server_config,
    write_server_config,
)
from sealflow_contracts import messages, subjects
from sealflow_contracts.access import ACCESS, ADVISORY_SUBJECT, SERVICES, nats_permissions

ROOT = Path(__file__).resolve().parents[2]
SEGMENT = {"intake": "intake", "routing": "routing", "signing": "signing", "sla-monitor": "sla", "notify": "notify"}
BUILD_ENV = {
    "SEALFLOW_NATS_URL": "nats://nats:4222",
    "SEALFLOW_MONGO_URI": "mongodb://mongo:27017/",
    "SEALFLOW_MASTER_KEY": base64.b64encode(bytes(32)).decode(),
    "SEALFLOW_JWT_SECRET": "access-test-only",
    "OTEL_SDK_DISABLED": "true",
    "SEALFLOW_LOG_LEVEL": "WARNING",
}


def _subject_constants() -> dict[str, str]:
    return {k: v for k, v in vars(subjects).items() if k.isupper() and isinstance(v, str) and v.startswith("sealflow.") and ".dlq" not in v}


def _source(service: str) -> str:
    folder = ROOT / "services" / service / "src"
    return "\n".join(p.read_text() for p in folder.rglob("*.py"))


def test_every_stream_subject_has_one_publisher_and_events_are_published_by_their_owner() -> None:
    for name, subject in _subject_constants().items():
        kind, owner = subject.split(".")[1:3]
        if kind == "rpc":
            servers = [s for s in SERVICES if subject in ACCESS[s].listens]
            assert servers == [next(s for s in SERVICES if SEGMENT[s] == owner)], f"{name}: answered by {servers}"
            assert any(subject in ACCESS[s].requests for s in SERVICES), f"{name}: nobody may call it"
            continue
        publishers = [s for s in SERVICES if subject in ACCESS[s].publishes]
        assert len(publishers) == 1, f"{name} ({subject}) needs exactly one publisher in sealflow_contracts.access, has {publishers}"
        if kind == "evt":
            assert SEGMENT[publishers[0]] == owner, f"{name}: an event is published by the service it is named after"
        else:
            assert kind == "cmd" and any(subject in ACCESS[s].consumes.values() for s in SERVICES if SEGMENT[s] == owner), name


@pytest.fixture(scope="module")
def registered() -> dict[str, list[tuple[str, str | None]]]:
    """(subject, durable) of every subscriber each service's broker registers, as `sealflow up` builds it."""
    saved = {k: os.environ.get(k) for k in BUILD_ENV}
    os.environ.update(BUILD_ENV)
    try:
        found = {}
        for service in SERVICES:
            rt, _ = importlib.import_module(f"sealflow_{service.replace('-', '_')}.entrypoints.app").build()
            found[service] = [
                (
                    str(getattr(sub.subject, "subject", sub.subject)).replace("Address('", "").rstrip("')"),
                    getattr(getattr(sub, "config", None), "durable_name", None),
                )
                for sub in rt.broker.subscribers
            ]
        return found
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def test_the_table_lists_exactly_the_subscribers_each_service_registers(registered) -> None:
    for service in SERVICES:
        access = ACCESS[service]
        durables = {durable: subject for subject, durable in registered[service] if durable}
        assert durables == access.consumes, f"{service}: durable consumers in code vs table"
        core = sorted(subject for subject, durable in registered[service] if not durable and subject != ADVISORY_SUBJECT)
        assert core == sorted(access.listens), f"{service}: core subscriptions in code vs table"


def test_every_message_a_service_builds_is_one_it_may_publish() -> None:
    envelopes, pending = {}, list(messages.Envelope.__subclasses__())
    while pending:
        model = pending.pop()
        pending.extend(model.__subclasses__())
        if "SUBJECT" in model.__dict__:
            envelopes[model.__name__] = model.SUBJECT
    for service in SERVICES:
        source = _source(service)
        built = {subject for name, subject in envelopes.items() if re.search(rf"\b{name}\(", source)}
        assert built <= set(ACCESS[service].publishes), (
            f"{service} builds messages it may not publish: {built - set(ACCESS[service].publishes)}"
        )


def test_every_request_reply_subject_a_service_calls_is_granted() -> None:
    constants = _subject_constants()
    for service in SERVICES:
        used = {constants[n] for n in re.findall(r"subjects\.(RPC_\w+)", _source(service)) if n in constants}
        called = used - set(ACCESS[service].listens)
        assert called <= set(ACCESS[service].requests), f"{service} calls {called - set(ACCESS[service].requests)} without permission"


def test_permissions_never_grant_another_services_subjects_or_destructive_calls() -> None:
    for service in SERVICES:
        allowed = nats_permissions(service)["publish"]["allow"]
        assert not any(p in ("sealflow.>", "sealflow.evt.>", "sealflow.cmd.>", ">", "$JS.API.>", "$JS.>") for p in allowed)
        assert not any(word in p for p in allowed for word in ("DELETE", "PURGE"))
        others = {s for other in SERVICES if other != service for s in ACCESS[other].publishes} - set(ACCESS[service].publishes)
        assert not others & set(allowed)


def test_the_generated_server_configuration_is_valid(tmp_path: Path) -> None:
    passwords = {name: f"pw-{name}" for name in (*SERVICES, OPERATOR, ROUTE_USER)}
    nats_server = str(Path(os.sys.executable).parent / "nats-server")
    for text in (
        server_config(port=4222, store_dir=tmp_path / "js", passwords=passwords),
        server_config(port=4222, store_dir=tmp_path / "js", passwords=passwords, node=1, route_ports=[6222, 6223, 6224]),
    ):
        config = write_server_config(tmp_path / "nats.conf", text)
        checked = subprocess.run([nats_server, "-c", str(config), "-t"], capture_output=True, text=True, timeout=60, check=False)
        assert checked.returncode == 0, checked.stderr + checked.stdout


def test_deploy_carries_the_generated_users_and_compose_s_copy_is_valid(tmp_path: Path) -> None:
    for path, text in ((DEPLOY_AUTH_CONF, deploy_auth_conf()), (DEPLOY_HELM_VALUES, deploy_helm_values())):
        assert path.read_text() == text, f"{path.name} is stale: run `python -m sealflow_cli.natsauth --write`"
    # compose's nats-server: the generated users, passwords from its environment
    config = tmp_path / "nats.conf"
    config.write_text(f'jetstream {{ store_dir: "{tmp_path}/js" }}\ninclude ./auth.conf\n')
    (tmp_path / "auth.conf").write_text(DEPLOY_AUTH_CONF.read_text())
    env = {**os.environ, **{env_name(n): f"pw-{n}" for n in (*SERVICES, OPERATOR)}}
    nats_server = str(Path(os.sys.executable).parent / "nats-server")
    checked = subprocess.run([nats_server, "-c", str(config), "-t"], capture_output=True, text=True, timeout=60, env=env, check=False)
    assert checked.returncode == 0, checked.stderr + checked.stdout


def test_the_stack_grants_each_service_the_database_its_settings_name() -> None:
    from sealflow_cli.stack import DATABASES

    for service in SERVICES:
        config = importlib.import_module(f"sealflow_{service.replace('-', '_')}.config")
        settings = next(
            v
            for v in vars(config).values()
            if isinstance(v, type) and "db_name" in getattr(v, "model_fields", {}) and v.__module__ == config.__name__
        )
        assert settings.model_fields["db_name"].default == DATABASES[service], service
