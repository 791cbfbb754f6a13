"""A virtual environment holding only the standalone verifier (tools/verify) and its dependencies — none of
Sealflow's packages — as an auditor outside the town office would install it; and a way to run it there."""

import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def fresh_venv(wheels: Path) -> Path:
    """Kept between runs (keyed by the package's pyproject) because an install resolves pyHanko's dependencies;
    the verifier itself is rebuilt as it is now (a wheel in `wheels`) and installed over them, offline."""
    key = hashlib.sha256((ROOT / "tools/verify/pyproject.toml").read_bytes()).hexdigest()[:12]
    venv = Path(os.environ.get("SEALFLOW_VERIFY_VENV", f"/tmp/sealflow-verify-venv-{key}"))
    if not (venv / "bin" / "sealflow-verify").exists():
        subprocess.run([sys.executable, "-m", "venv", "--clear", str(venv)], check=True)
        subprocess.run([str(venv / "bin/pip"), "install", "-q", str(ROOT / "tools/verify")], check=True, timeout=1200)
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "-q",
            "--no-deps",
            "--no-build-isolation",
            "--no-index",
            "-w",
            str(wheels),
            str(ROOT / "tools/verify"),
        ],
        check=True,
        timeout=300,
    )
    wheel = next(wheels.glob("sealflow_verify-*.whl"))
    subprocess.run(
        [str(venv / "bin/pip"), "install", "-q", "--no-deps", "--no-index", "--force-reinstall", str(wheel)], check=True, timeout=300
    )
    installed = subprocess.run([str(venv / "bin/pip"), "list", "--format=json"], check=True, capture_output=True, text=True).stdout
    assert [p["name"] for p in json.loads(installed) if p["name"].startswith("sealflow")] == ["sealflow-verify"]
    return venv


def without_network() -> list[str]:
    """A command prefix that runs a program with no network at all (a new network namespace holding only a
    loopback that is down), where the kernel allows unprivileged namespaces; else none."""
    unshare = shutil.which("unshare")
    if unshare and subprocess.run([unshare, "-rn", "true"], capture_output=True).returncode == 0:
        return [unshare, "-rn"]
    return []


def run_verifier(venv: Path, *args: str | Path, offline: bool = False) -> subprocess.CompletedProcess:
    """`sealflow-verify ARGS` from the venv, outside the repository, with a bare environment."""
    return subprocess.run(
        [*(without_network() if offline else []), str(venv / "bin/sealflow-verify"), *map(str, args)],
        capture_output=True,
        text=True,
        timeout=300,
        cwd="/",
        env={"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"},
    )
