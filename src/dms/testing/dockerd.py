"""A dedicated Docker Engine for tests, benchmarks and ``dms testnet``.

:func:`ensure_dockerd` returns a ``DOCKER_HOST`` URL of a running ``dockerd`` that
belongs to dms tests only: its own data root, exec root (and so its own containerd),
pid file, socket and bridge. It installs Debian's ``docker.io`` when missing, reuses
a daemon that already answers ``_ping`` (idempotent, also across processes: a lock
file serializes starts), and leaves the daemon running for the next caller.

Networking: the default bridge of a daemon is ``docker0``, which a system dockerd may
own. This one gets its own bridge, ``dmstest0`` (172.31.250.1/24), created here before
the daemon starts (dockerd only creates ``docker0`` by itself) and passed with
``--bridge``; user-defined networks come from ``--default-address-pool
base=172.31.240.0/20,size=24``, away from the host's usual ranges. Nothing else on the host
is touched: no other interface, no ``docker0``.

    ensure_dockerd() ──ping ok?──▶ url
          │ no
          ├─ apt-get install docker.io   (when dockerd is missing; needs root)
          ├─ ip link add dmstest0 type bridge; addr 172.31.250.1/24; up
          └─ dockerd --data-root /var/lib/dms-test-docker --exec-root /run/dms-test-docker/x
                     --pidfile ... -H unix:///run/dms-test-docker/docker.sock
                     --bridge dmstest0  ──wait for _ping──▶ url
"""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from dms.errors import ExecutorError
from dms.executor.docker.fingerprint import ping_unix

DATA_ROOT = Path("/var/lib/dms-test-docker")
RUN_DIR = Path("/run/dms-test-docker")
BRIDGE = "dmstest0"
BRIDGE_CIDR = "172.31.250.1/24"
ADDRESS_POOL = "base=172.31.240.0/20,size=24"


@dataclass(frozen=True)
class DockerdPaths:
    data_root: Path = DATA_ROOT
    run_dir: Path = RUN_DIR

    @property
    def socket(self) -> Path:
        return self.run_dir / "docker.sock"

    @property
    def url(self) -> str:
        return f"unix://{self.socket}"

    @property
    def pidfile(self) -> Path:
        return self.run_dir / "dockerd.pid"

    @property
    def log(self) -> Path:
        return self.run_dir / "dockerd.log"

    @property
    def exec_root(self) -> Path:
        return self.run_dir / "exec"


def dockerd_argv(paths: DockerdPaths, dockerd: str = "dockerd") -> list[str]:
    return [dockerd, "--data-root", str(paths.data_root), "--exec-root", str(paths.exec_root),
            "--pidfile", str(paths.pidfile), "-H", paths.url, "--bridge", BRIDGE,
            "--default-address-pool", ADDRESS_POOL]


def ping(url: str, timeout_s: float = 2.0) -> bool:
    import docker

    if url.startswith("unix://"):
        return ping_unix(url, timeout_s)

    try:
        client = docker.APIClient(base_url=url, timeout=max(1, int(timeout_s)), version="1.24")
    except Exception:
        return False
    try:
        return bool(client.ping())
    except Exception:
        return False
    finally:
        client.close()


def _run(argv: list[str], what: str, timeout_s: float = 600) -> None:
    res = subprocess.run(argv, capture_output=True, text=True, timeout=timeout_s, check=False)
    if res.returncode != 0:
        raise ExecutorError(f"{what} failed ({' '.join(argv)}): {res.stderr.strip()[-800:]}",
                            hint="run the test setup as root on a Debian host "
                                 "(scripts/setup installs docker.io)")


def _install_docker() -> str:
    found = shutil.which("dockerd")
    if found:
        return found
    if os.geteuid() != 0:
        raise ExecutorError("dockerd is not installed and installing it needs root",
                            hint="run `apt-get install -y docker.io` as root, or the tests as root")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for argv in (["apt-get", "update"], ["apt-get", "install", "-y", "docker.io"]):
        res = subprocess.run(argv, capture_output=True, text=True, env=env, check=False)
        if res.returncode != 0 and argv[1] == "install":
            raise ExecutorError(f"installing docker.io failed: {res.stderr.strip()[-800:]}",
                                hint="check the apt sources, then `apt-get install docker.io`")
    found = shutil.which("dockerd")
    if not found:
        raise ExecutorError("docker.io installed but dockerd is not on PATH",
                            hint="check `dpkg -L docker.io`")
    return found


def _ensure_bridge() -> None:
    if Path(f"/sys/class/net/{BRIDGE}").exists():
        _run(["ip", "link", "set", BRIDGE, "up"], f"bringing {BRIDGE} up")
        return
    _run(["ip", "link", "add", BRIDGE, "type", "bridge"], f"creating bridge {BRIDGE}")
    _run(["ip", "addr", "add", BRIDGE_CIDR, "dev", BRIDGE], f"addressing bridge {BRIDGE}")
    _run(["ip", "link", "set", BRIDGE, "up"], f"bringing {BRIDGE} up")


def _stale_pid(paths: DockerdPaths) -> int | None:
    try:
        pid = int(paths.pidfile.read_text().strip())
    except (OSError, ValueError):
        return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    return pid


def _log_tail(paths: DockerdPaths, n: int = 15) -> str:
    try:
        return "\n".join(paths.log.read_text(errors="replace").splitlines()[-n:])
    except OSError:
        return "(no log)"


def _spawn_detached(argv: list[str], log: Path) -> None:
    """Start a long-lived daemon that outlives this process and is not its child.

    A plain Popen that is dropped while the daemon runs warns "subprocess is
    still running" when it is collected (pytest turns that into an error), so a
    short-lived shell backgrounds the daemon in its own session and exits; the
    daemon is reparented to init and nothing here holds a handle to it.
    """
    script = 'setsid "$@" </dev/null >>"$DMS_DAEMON_LOG" 2>&1 &'
    subprocess.run(["sh", "-c", script, "sh", *argv], check=True,
                   env={**os.environ, "DMS_DAEMON_LOG": str(log)})


def ensure_dockerd(paths: DockerdPaths | None = None, *, timeout_s: float = 90.0) -> str:
    """A DOCKER_HOST URL of the tests' own running dockerd (started when needed)."""
    paths = paths or DockerdPaths()
    if ping(paths.url):
        return paths.url
    paths.run_dir.mkdir(parents=True, exist_ok=True)
    with open(paths.run_dir / "start.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if ping(paths.url):
            return paths.url
        binary = _install_docker()
        pid = _stale_pid(paths)
        if pid is None:
            if os.geteuid() != 0:
                raise ExecutorError("starting the test dockerd needs root",
                                    hint=f"run the tests as root, or start one at {paths.url}")
            _ensure_bridge()
            paths.data_root.mkdir(parents=True, exist_ok=True)
            paths.socket.unlink(missing_ok=True)
            _spawn_detached(dockerd_argv(paths, binary), paths.log)
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if ping(paths.url):
                return paths.url
            time.sleep(0.2)
    raise ExecutorError(f"the test dockerd did not answer at {paths.url} within {timeout_s} s; "
                        f"log tail:\n{_log_tail(paths)}",
                        hint=f"read {paths.log}; a stale {paths.pidfile} or a bridge "
                             f"conflict on {BRIDGE} are the usual causes")
