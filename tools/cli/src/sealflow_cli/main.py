"""`sealflow up` starts everything locally; `sealflow token <person-id>` prints a JWT for an active person of
the running system's org directory."""

import argparse
import os
import signal
import sys
import time
from pathlib import Path

import httpx
from sealflow_intake.auth import mint_token

from sealflow_cli.stack import Stack, load_secrets


def _data_dir() -> Path:
    return Path(os.environ.get("SEALFLOW_DATA_DIR", ".sealflow")).resolve()


def _replicas(pairs: list[str]) -> dict[str, int]:
    counts = {}
    for pair in pairs:
        service, _, count = pair.partition("=")
        counts[service] = int(count)
    return counts


def up(args: argparse.Namespace) -> int:
    stack = Stack(
        data_dir=_data_dir(),
        http_port=int(os.environ.get("SEALFLOW_HTTP_PORT", "8080")),
        replicas=_replicas(args.replicas),
        nats_cluster=args.nats_cluster,
    )

    def terminate(*_: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, terminate)
    try:
        print(f"starting Sealflow (data in {stack.data_dir}) ...", flush=True)
        stack.start()
        # never the passwords: they are in the data directory (0600) for whoever may read it
        print(f"nats: {','.join(stack.nats_servers)}  mongodb: {stack.mongo_uri}", flush=True)
        if stack.nats_users:
            print(f"nats users: one per service + operator (passwords in {stack.data_dir / 'nats-users.json'})", flush=True)
        print(f"HTTP API: {stack.base_url}  (logs in {stack.data_dir / 'logs'})", flush=True)
        print(f'try:  curl -H "Authorization: Bearer $(sealflow token jiulian-director)" {stack.base_url}/v1/tasks', flush=True)
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


def _base_url(args: argparse.Namespace) -> str:
    return (args.url or os.environ.get("SEALFLOW_BASE_URL") or f"http://127.0.0.1:{os.environ.get('SEALFLOW_HTTP_PORT', '8080')}").rstrip(
        "/"
    )


def token(args: argparse.Namespace) -> int:
    """A token for an active person of the directory as it stands in the running system — not the pilot
    file: people the administrator added can sign in, deactivated ones cannot. The token is shown only
    after intake has accepted it (`GET /v1/me`), so its answer is the directory's."""
    secret = os.environ.get("SEALFLOW_JWT_SECRET") or load_secrets(_data_dir())["jwt_secret"]
    candidate = mint_token(args.person_id, secret, hours=args.hours)
    base = _base_url(args)
    try:
        answer = httpx.get(f"{base}/v1/me", headers={"Authorization": f"Bearer {candidate}"}, timeout=15.0)
    except httpx.HTTPError as error:
        print(
            f"无法连接 Sealflow（{base}）：请先运行 `sealflow up`，或用 --url 指定地址。\n"
            f"cannot reach Sealflow at {base} ({error.__class__.__name__}); start it with `sealflow up` or pass --url",
            file=sys.stderr,
        )
        return 3
    if answer.status_code == 200:
        print(candidate)
        return 0
    try:
        error = answer.json()["error"]
    except (ValueError, KeyError, TypeError):
        error = {"code": f"http_{answer.status_code}", "message": answer.text[:200]}
    messages = {
        "unknown_person": (f"名录中没有人员 {args.person_id}。", f"{args.person_id!r} is not in the org directory."),
        "person_inactive": (f"人员 {args.person_id} 已停用，不能再登录。", f"{args.person_id!r} is deactivated and can no longer sign in."),
        "invalid_token": (
            "令牌被拒绝：本机的 JWT 密钥与运行中的系统不一致（SEALFLOW_JWT_SECRET / SEALFLOW_DATA_DIR）。",
            "the token was refused: this JWT secret is not the running system's (check SEALFLOW_JWT_SECRET / SEALFLOW_DATA_DIR).",
        ),
    }
    chinese, english = messages.get(error["code"], (f"系统拒绝：{error['message']}", f"refused: {error['code']}: {error['message']}"))
    print(f"{chinese}\n{english}", file=sys.stderr)
    return 2


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="sealflow", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    up_parser = commands.add_parser("up", help="start NATS, MongoDB-wire server and the five services; Ctrl-C stops")
    up_parser.add_argument("--replicas", nargs="*", default=[], metavar="SERVICE=N", help="e.g. routing=2 notify=2")
    up_parser.add_argument(
        "--nats-cluster",
        type=int,
        default=1,
        choices=(1, 3),
        metavar="N",
        help="nats-server processes: 1, or 3 as a JetStream cluster (streams at 3 replicas)",
    )
    up_parser.set_defaults(run=up)
    token_parser = commands.add_parser("token", help="print a bearer token for an active person of the running system's directory")
    token_parser.add_argument("person_id")
    token_parser.add_argument("--url", help="intake's address (default SEALFLOW_BASE_URL, else http://127.0.0.1:$SEALFLOW_HTTP_PORT)")
    token_parser.add_argument("--hours", type=float, default=12.0)
    token_parser.set_defaults(run=token)
    args = parser.parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
