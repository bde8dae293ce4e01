"""Build the libp2p host: identity from the node key, Noise only, Yamux, limits, PSK.

Identity: the host key is the node's Ed25519 key itself (``SigningKey.seed()`` ->
libp2p ``create_new_key_pair(seed)``), so the libp2p peer id (``12D3KooW...``) and the
node's ``did:key`` name the same public key. Child actors have their own DIDs and share
the host's peer id.
"""

from __future__ import annotations

import os
import re
import socket
import threading
from pathlib import Path
from typing import Any

import multiaddr
from libp2p import new_host
from libp2p.abc import IHost
from libp2p.crypto import x25519
from libp2p.crypto.ed25519 import create_new_key_pair
from libp2p.crypto.keys import KeyPair
from libp2p.network.config import ConnectionConfig
from libp2p.peer.id import ID
from libp2p.security.noise.transport import PROTOCOL_ID as NOISE_PROTOCOL_ID
from libp2p.security.noise.transport import Transport as NoiseTransport

from dms.crypto.keys import SigningKey
from dms.errors import ConfigError, NetworkError
from dms.network.settings import NetworkSettings

SWARM_KEY_HEADER = "/key/swarm/psk/1.0.0/"


def host_key_pair(key: SigningKey) -> KeyPair:
    """The libp2p Ed25519 key pair of ``key`` (same public key, so peer id ~ DID)."""
    return create_new_key_pair(key.seed())


def peer_id_of(key: SigningKey) -> ID:
    return ID.from_pubkey(host_key_pair(key).public_key)


def read_swarm_key(path: Path) -> str:
    """Parse a go-ipfs swarm key file; return the 64 hex chars py-libp2p wants.

    Format: ``/key/swarm/psk/1.0.0/`` newline ``/base16/`` newline ``<64 hex>``.
    A bare 64-hex-char file is accepted too.
    """
    try:
        text = path.read_text()
    except OSError as exc:
        raise ConfigError(f"cannot read the swarm key file {path}: {exc.strerror}",
                          hint="fix network.psk_file or create the key file") from exc
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    if lines and lines[0] == SWARM_KEY_HEADER:
        if len(lines) != 3 or lines[1] != "/base16/":
            raise ConfigError(f"swarm key file {path} is not in the expected format",
                              hint="expected '/key/swarm/psk/1.0.0/', '/base16/', 64 hex chars")
        lines = lines[2:]
    key = lines[0] if len(lines) == 1 else ""
    if not re.fullmatch(r"[0-9a-fA-F]{64}", key):
        raise ConfigError(f"swarm key file {path} does not hold a 32-byte hex key",
                          hint="generate one: printf '/key/swarm/psk/1.0.0/\\n/base16/\\n%s\\n' "
                               "$(openssl rand -hex 32)")
    return key.lower()


def check_ports_free(listen_addrs: list[str]) -> None:
    """Refuse to start on a TCP port another process listens on.

    py-libp2p listens with SO_REUSEPORT (for hole punching), so a second daemon on the
    same port would start fine and the kernel would split incoming connections between
    the two. A probe bind without SO_REUSEPORT fails with EADDRINUSE instead.
    """
    for text in listen_addrs:
        try:
            ma = multiaddr.Multiaddr(text)
            port = int(ma.value_for_protocol("tcp"))
        except Exception:  # not a TCP address: nothing to probe
            continue
        if port == 0:
            continue
        family, ip = socket.AF_INET, "0.0.0.0"
        for proto, fam in (("ip4", socket.AF_INET), ("ip6", socket.AF_INET6)):
            try:
                ip, family = ma.value_for_protocol(proto), fam
                break
            except Exception:  # multiaddr raises when the protocol is absent
                continue
        with socket.socket(family, socket.SOCK_STREAM) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind((ip, port))
            except OSError as exc:
                raise NetworkError(
                    f"cannot listen on {text}: {exc.strerror}",
                    hint="another process (perhaps another dms) uses this port; stop it or "
                         "change network.listen_addrs") from exc


def connection_config(settings: NetworkSettings) -> ConnectionConfig:
    # max_connections_per_peer=1 ends the happy-eyeballs wait right after the first
    # successful dial (5 ms instead of 250 ms); with one connection per peer,
    # max_connections is the peer limit. Watermarks at 0 keep the library's own
    # auto-connector quiet: discovery is ours.
    return ConnectionConfig(
        max_connections=settings.max_peers, min_connections=0, low_watermark=0,
        high_watermark=settings.max_peers, max_connections_per_peer=1,
        dial_timeout=settings.dial_timeout)


def build_host(key: SigningKey, settings: NetworkSettings, **extra: Any) -> IHost:
    """A libp2p host that speaks only Noise (plaintext and secio are refused)."""
    # py-libp2p's yamux sends a WINDOW_UPDATE after every read unless told otherwise;
    # go-yamux semantics (batched updates at half window) halve the frames on a busy
    # stream: 1,150 -> 2,700 invokes/s here. The library reads this knob on every use.
    os.environ.setdefault("PY_YAMUX_RELEASE_ON_READ", "0")
    kp = host_key_pair(key)
    psk = read_swarm_key(settings.psk_file) if settings.psk_file else None
    sec_opt = {NOISE_PROTOCOL_ID: NoiseTransport(
        kp, noise_privkey=x25519.create_new_key_pair().private_key)}
    try:
        listen = [multiaddr.Multiaddr(a) for a in settings.listen_addrs]
    except Exception as exc:  # multiaddr raises several unrelated types
        raise ConfigError(f"bad listen address in {settings.listen_addrs}: {exc}",
                          hint="use multiaddrs like /ip4/0.0.0.0/tcp/9000") from exc
    host = new_host(key_pair=kp, sec_opt=sec_opt, muxer_preference="YAMUX",
                    listen_addrs=listen, connection_config=connection_config(settings),
                    enable_mDNS=settings.mdns, psk=psk, **extra)
    _register_mdns_off_loop(host)
    return host


def _register_mdns_off_loop(host: IHost) -> None:
    """py-libp2p registers the mDNS service from ``host.run()`` with zeroconf's blocking
    ``register_service`` (name probing: ~1.6 s here), which stalls the event loop and the
    node's start-up. Registration goes to a thread instead; discovery is unchanged."""
    mdns = getattr(host, "mDNS", None)
    broadcaster = getattr(mdns, "broadcaster", None)
    if broadcaster is None:
        return
    register = broadcaster.register

    def register_in_thread() -> None:
        threading.Thread(target=register, name="dms-mdns-register", daemon=True).start()

    broadcaster.register = register_in_thread
