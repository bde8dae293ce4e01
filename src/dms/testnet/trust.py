"""Trust between testnet nodes: one organization root, a grant per identity.

    org key (testnet dir/org)          every node's `dms` context: --root <org DID>
        ├── grant / + topic / ──▶ node N's `dms` key   (kept as a `provide` proof)
        └── grant / + topic / ──▶ node N's `user` key  (kept as a `provide` proof)

So a call from any node (its daemon, or its person through the CLI) carries a chain
rooted at the organization, which every other node trusts fully. The same as
``dms cap anchor -c dms --root ORG``, ``dms cap grant -c org --to DID --cap / --topic /``
and ``dms cap anchor -c dms|user --provide TOKEN``, done in process through the same
API: one CLI run costs ~0.9 s here and 5 nodes need 31 of them; this takes ~0.1 s
per node.
Running daemons pick the changed context files up (contexts reload on change).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from dms.testnet.state import NodeInfo

ORG_KEY = "org"
GRANT_EXPIRY_S = 30 * 86400.0


def org_home(tdir: Path) -> Path:
    return tdir / "org"


def setup_trust(tdir: Path, nodes: Sequence[NodeInfo], passphrase: str,
                abilities: Sequence[str] = ("/",), topics: Sequence[str] = ("/",)) -> str:
    """Make (or reuse) the organization root and let every node trust it; its DID."""
    from dms.crypto.keystore import Keystore
    from dms.ucan import CapabilityContext

    home = org_home(tdir)
    org = Keystore(home / "keys").get_or_create(ORG_KEY, passphrase)
    org_ctx = CapabilityContext.load(home / "cap" / f"{ORG_KEY}.json", org)
    for nd in nodes:
        keystore = Keystore(Path(nd.home) / "keys")
        for context in ("dms", "user"):
            key = keystore.load(context, passphrase)
            ctx = CapabilityContext.load(Path(nd.home) / "cap" / f"{context}.json", key)
            if context == "dms":
                ctx.add_root(org.did)
            ctx.add_provide(org_ctx.grant(key.did, list(abilities), list(topics),
                                          expiry_s=GRANT_EXPIRY_S))
    return org.did
