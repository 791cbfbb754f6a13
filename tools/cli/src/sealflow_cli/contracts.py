"""Publish the API contracts: the AsyncAPI document of each service's FastStream broker (what it
receives over NATS) and intake's OpenAPI document, generated from the code into contracts/.

`python -m sealflow_cli.contracts` (`make contracts`) writes them; `--check` fails if the committed
files no longer match the code (CI runs it through tests/unit/test_contracts.py).

Sealflow's handlers take the raw body and validate it themselves (so a bad message can be
dead-lettered with its reason), which leaves FastStream no payload type to describe; each payload is
therefore filled in from the contract's own model: the envelope whose SUBJECT is the channel's
address, or the request model of an RPC subject (`messages.RPC_REQUESTS`).
"""

import argparse
import base64
import importlib
import json
import os
import sys
from pathlib import Path
from typing import Any

import yaml

SERVICES = ("intake", "routing", "signing", "sla-monitor", "notify")
ROOT = Path(__file__).resolve().parents[4]
OUT = ROOT / "contracts"
# Fixed values so the documents do not depend on who generates them; nothing connects anywhere.
BUILD_ENV = {
    "SEALFLOW_NATS_URL": "nats://nats:4222",
    "SEALFLOW_MONGO_URI": "mongodb://mongo:27017/",
    "SEALFLOW_MASTER_KEY": base64.b64encode(bytes(32)).decode(),
    "SEALFLOW_JWT_SECRET": "contracts-generation-only",
    "OTEL_SDK_DISABLED": "true",
    "SEALFLOW_LOG_LEVEL": "WARNING",
}


def _payload_models() -> dict[str, Any]:
    from sealflow_contracts import messages

    models: dict[str, Any] = dict(messages.RPC_REQUESTS)
    pending = list(messages.Envelope.__subclasses__())
    while pending:
        model = pending.pop()
        pending.extend(model.__subclasses__())
        if "SUBJECT" in model.__dict__:
            models[model.SUBJECT] = model
    return models


def _asyncapi(service: str, broker: Any, models: dict[str, Any]) -> dict[str, Any]:
    from faststream.specification import AsyncAPI

    doc = (
        AsyncAPI(
            broker,
            title=f"sealflow-{service}",
            version="1.0.0",
            description=f"What sealflow-{service} receives over NATS. Envelopes are JSON; request/reply answers are an RpcReply.",
        )
        .to_specification()
        .to_jsonable()
    )
    schemas = doc.setdefault("components", {}).setdefault("schemas", {})
    # JetStream's own advisories (dead-lettering plumbing) are NATS's contract, not Sealflow's.
    internal = [key for key, channel in doc["channels"].items() if channel["address"].startswith("$JS.")]
    for key in internal:
        del doc["channels"][key]
    doc["operations"] = {k: op for k, op in doc["operations"].items() if op["channel"]["$ref"].split("/")[-1] not in internal}
    for key in list(doc["components"]["messages"]):
        if key.startswith("$JS.") or key.startswith("%24JS."):
            del doc["components"]["messages"][key]
    for channel in doc["channels"].values():
        model = models.get(channel["address"])
        if model is None:
            raise SystemExit(f"{service}: no contract model for subject {channel['address']}")
        schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
        schemas.update(schema.pop("$defs", {}))
        schemas[model.__name__] = schema
        for ref in channel["messages"].values():
            message = doc["components"]["messages"][ref["$ref"].split("/")[-1].replace("%24", "$").replace("%2A", "*")]
            message["payload"] = {"$ref": f"#/components/schemas/{model.__name__}"}
            message["name"] = model.__name__
    used = json.dumps([doc["channels"], doc["components"]["messages"], {k: v for k, v in schemas.items()}])
    for name in [n for n in schemas if f'#/components/schemas/{n}"' not in used]:
        del schemas[name]  # FastStream's placeholder payloads, replaced above
    # FastStream lists subscribers in set order, which changes from run to run: sort for a stable diff.
    for parent, key in ((doc, "channels"), (doc, "operations"), (doc["components"], "messages"), (doc["components"], "schemas")):
        parent[key] = dict(sorted(parent[key].items()))
    return doc


def generate() -> dict[Path, str]:
    """Every contract file's path and content, built from the code."""
    os.environ.update(BUILD_ENV)
    models = _payload_models()
    files: dict[Path, str] = {}
    for service in SERVICES:
        rt, app = importlib.import_module(f"sealflow_{service.replace('-', '_')}.entrypoints.app").build()
        doc = _asyncapi(service, rt.broker, models)
        files[OUT / "asyncapi" / f"{service}.yaml"] = yaml.safe_dump(doc, sort_keys=False, allow_unicode=True, width=120)
        if service == "intake":
            files[OUT / "openapi" / "intake.json"] = json.dumps(app.openapi(), indent=2, ensure_ascii=False) + "\n"
    return files


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail if contracts/ differs from what the code generates")
    args = parser.parse_args()
    files = generate()
    if args.check:
        stale = [str(p.relative_to(ROOT)) for p, text in files.items() if not p.exists() or p.read_text() != text]
        extra = [str(p.relative_to(ROOT)) for p in OUT.rglob("*.*") if p not in files and p.name != "README.md"]
        if stale or extra:
            print(f"contracts/ does not match the code: {', '.join(stale + extra)}; run `make contracts` and commit", file=sys.stderr)
            sys.exit(1)
        print("contracts/ matches the code")
        return
    for path, text in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        print(f"wrote {path.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
