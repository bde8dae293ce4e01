"""Start real `dms run` daemons as subprocesses, for tests and benchmarks."""

from __future__ import annotations

import contextlib
import os
import random
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import httpx

TEST_PASSPHRASE = "test-passphrase-not-secret"


def free_port(host: str = "127.0.0.1") -> int:
    """A port that is free now, chosen below the kernel's ephemeral range, so that the
    outgoing connections and port-0 listeners of other processes cannot take it before
    the caller binds it (a port from bind(0) could be handed out again at once)."""
    low, _high = _ephemeral_range()
    for _ in range(200):
        port = random.randrange(max(1024, low - 12000), low)
        with socket.socket() as s:
            try:
                s.bind((host, port))
            except OSError:
                continue
            return port
    with socket.socket() as s:  # crowded: fall back to any free port
        s.bind((host, 0))
        return int(s.getsockname()[1])


def _ephemeral_range() -> tuple[int, int]:
    try:
        low, high = Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()
        return int(low), int(high)
    except (OSError, ValueError):
        return 32768, 60999


def dms_argv() -> list[str]:
    return [sys.executable, "-m", "dms.cli.main"]


@dataclass
class Daemon:
    home: Path
    api_port: int
    proc: subprocess.Popen[bytes]
    log_path: Path
    env: dict[str, str] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.api_port}"

    def cli(self, *args: str, timeout: float = 60, input: str | None = None) -> subprocess.CompletedProcess[str]:
        """Run `dms ARGS --home HOME` against this daemon."""
        return subprocess.run([*dms_argv(), *args, "--home", str(self.home)], env=self.env,
                              capture_output=True, text=True, timeout=timeout, input=input)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 15) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode


def wait_healthy(url: str, proc: subprocess.Popen[bytes] | None = None, timeout: float = 30) -> float:
    """Seconds until GET url/health answers 200; raises if the process dies or time runs out."""
    t0 = time.monotonic()
    with httpx.Client(timeout=1.0) as c:
        while True:
            if proc is not None and proc.poll() is not None:
                raise RuntimeError(f"daemon exited with {proc.returncode} before it was healthy")
            with contextlib.suppress(httpx.TransportError):
                if c.get(url + "/health").status_code == 200:
                    return time.monotonic() - t0
            if time.monotonic() - t0 > timeout:
                raise TimeoutError(f"{url}/health did not answer within {timeout}s")
            time.sleep(0.01)


def base_env(home: Path, extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DMS_")}
    env.update({"DMS_HOME": str(home), "DMS_PASSPHRASE": TEST_PASSPHRASE, "PYTHONUNBUFFERED": "1"})
    env.update(extra or {})
    return env


def start_daemon(home: Path, *, api_port: int | None = None, args: Sequence[str] = (),
                 env: dict[str, str] | None = None, wait: bool = True,
                 timeout: float = 30) -> Daemon:
    home.mkdir(parents=True, exist_ok=True)
    # port 0: the daemon binds any free port and reports it in runtime.json, so no other
    # process can take a port picked in advance (free_port() races with ephemeral ports)
    port = api_port if api_port is not None else (0 if wait else free_port())
    full_env = base_env(home, env)
    log_path = home / "daemon.log"
    logf = open(log_path, "ab")  # noqa: SIM115 (owned by the process)
    args = list(args)
    if not any("network.listen_addrs" in a for a in args):
        # tests never take the default p2p port (9000), nor announce themselves on the LAN
        args += ["--set", 'network.listen_addrs=["/ip4/127.0.0.1/tcp/0"]']
    if not any("network.mdns" in a for a in args):
        args += ["--set", "network.mdns=false"]
    proc = subprocess.Popen([*dms_argv(), "run", "--home", str(home), "--api-port", str(port), *args],
                            stdout=logf, stderr=subprocess.STDOUT, env=full_env,
                            start_new_session=True)
    logf.close()
    d = Daemon(home, port, proc, log_path, full_env)
    if wait:
        try:
            if port == 0:
                d.api_port = _reported_port(home, proc, timeout)
            wait_healthy(d.url, proc, timeout)
        except Exception:
            d.stop(signal.SIGKILL)
            raise RuntimeError(f"daemon did not become healthy; log:\n{d.log()[-3000:]}") from None
    return d


def _reported_port(home: Path, proc: subprocess.Popen[bytes], timeout: float) -> int:
    """The API port the daemon ``proc`` wrote to its runtime file once it was ready."""
    import json

    t0 = time.monotonic()
    while True:
        if proc.poll() is not None:
            raise RuntimeError(f"daemon exited with {proc.returncode} before it was ready")
        with contextlib.suppress(OSError, ValueError):
            info = json.loads((home / "runtime.json").read_text())
            if info.get("pid") == proc.pid:
                return int(info["api_port"])
        if time.monotonic() - t0 > timeout:
            raise TimeoutError(f"daemon did not report its API port within {timeout}s")
        time.sleep(0.01)


@contextlib.contextmanager
def running_daemon(home: Path, **kw) -> Iterator[Daemon]:
    d = start_daemon(home, **kw)
    try:
        yield d
    finally:
        d.stop()
