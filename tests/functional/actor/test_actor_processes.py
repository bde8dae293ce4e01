"""Two dms message stacks in separate OS processes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import trio
from actor_test_helpers import MakeNode

from dms.actor.wire import Handle
from dms.errors import AuthError

pytestmark = pytest.mark.functional

CHILD = '''
import json, sys, trio
from dms.actor import Actor, AllowList, Router
from dms.actor.behaviors import register_public
from dms.crypto.keys import SigningKey
from dms.network import Network, NetworkSettings

async def main():
    key = SigningKey.generate()
    settings = NetworkSettings(listen_addrs=["/ip4/127.0.0.1/tcp/0"], mdns=False, dht=False)
    async with trio.open_nursery() as n:
        net = await n.start(Network(key, settings).serve)
        router = await n.start(Router(net).serve)
        actor = Actor(key, router, AllowList())
        await register_public(actor)

        async def secret(msg):
            return "secret"

        actor.register("/dms/secret", secret)
        print(json.dumps({"did": actor.did, "peer": net.peer_id, "addr": net.addrs()[0]}),
              flush=True)
        await trio.to_thread.run_sync(sys.stdin.read)  # until the parent closes stdin
        n.cancel_scope.cancel()

trio.run(main)
'''


async def test_invoke_a_node_in_another_process(make_node: MakeNode, tmp_path: Path) -> None:
    script = tmp_path / "child.py"
    script.write_text(CHILD)
    me = await make_node()
    proc = await trio.lowlevel.open_process([sys.executable, str(script)],
                                            stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    try:
        assert proc.stdout is not None and proc.stdin is not None
        line = b""
        with trio.fail_after(30):
            while not line.endswith(b"\n"):
                chunk = await proc.stdout.receive_some(4096)
                assert chunk, "the child node exited before it was ready"
                line += chunk
        child = json.loads(line)
        await me.net.connect(child["addr"])
        handle = Handle(child["did"], child["peer"])
        assert (await me.actor.invoke(handle, "/public/hello", {}))["did"] == child["did"]
        with pytest.raises(AuthError):  # the child trusts nobody for /dms
            await me.actor.invoke(handle, "/dms/secret", {}, timeout=60)
    finally:
        if proc.stdin is not None:
            await proc.stdin.aclose()
        with trio.move_on_after(10):
            await proc.wait()
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
