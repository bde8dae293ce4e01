"""A stand-in for the ``firecracker`` binary: serves its API on a unix socket.

Usage: fake_firecracker.py --api-sock PATH   (as Firecracker is started)

Every request is appended as one JSON line {method, path, headers, body} to the file
named by $FAKE_FC_RECORD and answered ``204 No Content`` (what Firecracker answers to
a valid pre-boot PUT), or ``400`` with a ``fault_message`` for a body that is not JSON.
On ``PUT /actions {"action_type": "InstanceStart"}`` it "boots": prints a console line
and the dms exit marker (nonce taken from the boot args) to stdout, which Firecracker
connects to the guest serial console, then exits 0 as Firecracker does when the guest
reboots with reboot=k. $FAKE_FC_STATUS sets the status in the marker (default 0);
$FAKE_FC_HANG=1 makes it keep running after InstanceStart (to test cancel).
"""

from __future__ import annotations

import json
import os
import re
import socketserver
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler

STATE: dict[str, str] = {}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:
        pass

    def address_string(self) -> str:
        return "unix"

    def do_PUT(self) -> None:
        length = int(self.headers.get("Content-Length", "0"))
        raw = self.rfile.read(length)
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            self._reply(400, {"fault_message": "body is not JSON"})
            return
        with open(os.environ["FAKE_FC_RECORD"], "a") as f:
            f.write(json.dumps({"method": "PUT", "path": self.path,
                                "content_type": self.headers.get("Content-Type"),
                                "body": body}) + "\n")
        if self.path == "/boot-source":
            STATE["boot_args"] = body.get("boot_args", "")
        self._reply(204, None)
        if self.path == "/actions" and body == {"action_type": "InstanceStart"}:
            threading.Thread(target=boot, daemon=True).start()

    def _reply(self, code: int, body: dict[str, str] | None) -> None:
        data = json.dumps(body).encode() if body is not None else b""
        self.send_response(code)
        self.send_header("Content-Length", str(len(data)))
        if data:
            self.send_header("Content-Type", "application/json")
        self.end_headers()
        if data:
            self.wfile.write(data)


def boot() -> None:
    m = re.search(r"dms_nonce=(\S+)", STATE.get("boot_args", ""))
    nonce = m.group(1) if m else "?"
    sys.stdout.write("fake guest: hello from firecracker\n")
    sys.stdout.write(f"DMS-EXIT {nonce} status={os.environ.get('FAKE_FC_STATUS', '0')} oom=0\n")
    sys.stdout.flush()
    if os.environ.get("FAKE_FC_HANG") == "1":
        return
    time.sleep(0.05)
    os._exit(0)


def main() -> None:
    sock = sys.argv[sys.argv.index("--api-sock") + 1]
    server = socketserver.ThreadingUnixStreamServer(sock, Handler)
    server.daemon_threads = True
    server.serve_forever()


if __name__ == "__main__":
    main()
