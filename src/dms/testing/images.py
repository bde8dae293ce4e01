"""Test images built without any registry.

:func:`ensure_busybox_image` makes ``dms-test/busybox:latest`` on a Docker Engine from
Debian's ``busybox-static`` (installed with apt when missing): a root filesystem with
``/bin/busybox`` and one symlink per applet, tarred and ``docker import``-ed. It is
idempotent: an image already carrying the tag is reused.

    /bin/busybox (host) ─▶ rootfs/{bin/busybox, bin/<applet> -> busybox, tmp, results,
                                   inputs, etc/{passwd,group}} ─▶ tar ─▶ docker import
"""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import tarfile
import time

from dms.errors import ExecutorError

BUSYBOX_IMAGE = "dms-test/busybox:latest"
_BUSYBOX_PATHS = ("/bin/busybox", "/usr/bin/busybox")
_PASSWD = b"root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n"
_GROUP = b"root:x:0:\nvideo:x:44:\nrender:x:105:\nnogroup:x:65534:\n"


def _busybox_binary() -> str:
    for path in _BUSYBOX_PATHS:
        if os.path.isfile(path) and _is_static(path):
            return path
    if os.geteuid() != 0:
        raise ExecutorError("busybox-static is not installed and installing it needs root",
                            hint="run `apt-get install -y busybox-static` as root")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "update"], capture_output=True, env=env, check=False)
    res = subprocess.run(["apt-get", "install", "-y", "busybox-static"], capture_output=True,
                         text=True, env=env, check=False)
    if res.returncode != 0:
        raise ExecutorError(f"installing busybox-static failed: {res.stderr.strip()[-600:]}",
                            hint="check the apt sources, then `apt-get install busybox-static`")
    for path in _BUSYBOX_PATHS:
        if os.path.isfile(path):
            return path
    raise ExecutorError("busybox-static installed but no /bin/busybox",
                        hint="check `dpkg -L busybox-static`")


def _is_static(path: str) -> bool:
    res = subprocess.run(["file", "-L", path], capture_output=True, text=True, check=False)
    if res.returncode != 0:   # no `file`: trust Debian's busybox-static layout
        return shutil.which("busybox") is not None
    return "statically linked" in res.stdout or "static-pie" in res.stdout


def _applets(busybox: str) -> list[str]:
    out = subprocess.run([busybox, "--list"], capture_output=True, text=True, check=True).stdout
    return sorted({a for a in out.split() if a and a != "busybox" and "/" not in a})


def busybox_rootfs_tar(busybox: str) -> bytes:
    """A tar of a minimal root filesystem around a static busybox (pure but for reads)."""
    buf = io.BytesIO()
    now = int(time.time())

    def add(name: str, *, data: bytes | None = None, kind: bytes = tarfile.REGTYPE,
            mode: int = 0o644, link: str = "") -> None:
        info = tarfile.TarInfo(name)
        info.type, info.mode, info.mtime, info.linkname = kind, mode, now, link
        info.size = len(data) if data is not None else 0
        tar.addfile(info, io.BytesIO(data) if data is not None else None)

    with tarfile.open(fileobj=buf, mode="w") as tar:
        for d in ("bin", "tmp", "results", "inputs", "etc", "proc", "sys", "dev", "root"):
            add(d, kind=tarfile.DIRTYPE, mode=0o1777 if d == "tmp" else 0o755)
        with open(busybox, "rb") as f:
            add("bin/busybox", data=f.read(), mode=0o755)
        for applet in _applets(busybox):
            add(f"bin/{applet}", kind=tarfile.SYMTYPE, mode=0o777, link="busybox")
        add("etc/passwd", data=_PASSWD)
        add("etc/group", data=_GROUP)
    return buf.getvalue()


def ensure_busybox_image(docker_host: str, tag: str = BUSYBOX_IMAGE) -> str:
    """The tag of a busybox image present on ``docker_host`` (imported when missing)."""
    import docker
    import docker.errors

    client = docker.APIClient(base_url=docker_host, timeout=120)
    try:
        try:
            client.inspect_image(tag)
            return tag
        except docker.errors.ImageNotFound:
            pass
        repo, _, version = tag.rpartition(":") if ":" in tag.split("/")[-1] else (tag, "", "")
        data = busybox_rootfs_tar(_busybox_binary())
        answer = client.import_image_from_data(
            data, repository=repo, tag=version or "latest",
            changes=['ENV PATH=/bin', 'CMD ["/bin/sh"]'])
        if "errorDetail" in str(answer):
            raise docker.errors.DockerException(str(answer)[-600:])
        client.inspect_image(tag)
        return tag
    except docker.errors.DockerException as exc:
        raise ExecutorError(f"could not build the test image {tag} on {docker_host}: {exc}",
                            hint="check that the daemon runs (dms.testing.dockerd.ensure_dockerd)"
                            ) from exc
    finally:
        client.close()
