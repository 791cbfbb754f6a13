"""`sealflow up` starts everything locally; `sealflow token <person-id>` prints a JWT for a pilot person."""

import argparse
import os
import signal
import sys
import time
from pathlib import Path

from sealflow_cli.stack import Stack, load_secrets
from sealflow_intake.auth import mint_token
from sealflow_routing.adapters.store import pilot_data


def _data_dir() -> Path:
    return Path(os.environ.get("SEALFLOW_DATA_DIR", ".sealflow")).resolve()


def _replicas(pairs: list[str]) -> dict[str, int]:
    counts = {}
    for pair in pairs:
        service, _, count = pair.partition("=")
        counts[service] = int(count)
    return counts


def up(args: argparse.Namespace) -> int:
    stack = Stack(data_dir=_data_dir(), http_port=int(os.environ.get("SEALFLOW_HTTP_PORT", "8080")), replicas=_replicas(args.replicas))

    def terminate(*_: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, terminate)
    try:
        print(f"starting Sealflow (data in {stack.data_dir}) ...", flush=True)
        stack.start()
        print(f"nats: {stack.nats_url}  mongodb: {stack.mongo_uri}", flush=True)
        print(f"HTTP API: {stack.base_url}  (logs in {stack.data_dir / 'logs'})", flush=True)
        print("try:  curl -H \"Authorization: Bearer $(sealflow token jiulian-director)\" " f"{stack.base_url}/v1/tasks", flush=True)
        print("ready", flush=True)
        while True:
            time.sleep(1.0)
            for name in stack.restart_dead():
                print(f"{name} died; restarted (see {stack.log_path(name)})", flush=True)
    except KeyboardInterrupt:
        print("stopping ...", flush=True)
    finally:
        stack.stop()
        print("stopped", flush=True)
    return 0


def token(args: argparse.Namespace) -> int:
    people = {p["id"] for p in pilot_data()["people"]}
    if args.person_id not in people:
        print(f"unknown person {args.person_id!r}; pilot people: {', '.join(sorted(people))}", file=sys.stderr)
        return 2
    secret = os.environ.get("SEALFLOW_JWT_SECRET") or load_secrets(_data_dir())["jwt_secret"]
    print(mint_token(args.person_id, secret, hours=args.hours))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="sealflow", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    up_parser = commands.add_parser("up", help="start NATS, MongoDB-wire server and the five services; Ctrl-C stops")
    up_parser.add_argument("--replicas", nargs="*", default=[], metavar="SERVICE=N", help="e.g. routing=2 notify=2")
    up_parser.set_defaults(run=up)
    token_parser = commands.add_parser("token", help="print a bearer token for a pilot person")
    token_parser.add_argument("person_id")
    token_parser.add_argument("--hours", type=float, default=12.0)
    token_parser.set_defaults(run=token)
    args = parser.parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
