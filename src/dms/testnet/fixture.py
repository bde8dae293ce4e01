"""Testnets for tests: ``with testnet(3, latency="30ms") as tn: ...``.

In a conftest::

    @pytest.fixture(scope="session")
    def net():
        with testnet(3, loopback=True) as tn:
            yield tn
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from dms.testnet.net import Testnet


@contextmanager
def testnet(n: int, *, base_dir: str | Path | None = None, **kw: Any) -> Iterator[Testnet]:
    """Bring up an ``n``-node testnet (:meth:`Testnet.up` keywords), always tear it down.

    Without ``base_dir`` the testnet lives in a fresh temporary directory, so parallel
    test sessions never share one (and ``/tmp/dms-testnet/current`` is left alone).
    """
    tdir = Path(base_dir) if base_dir else Path(tempfile.mkdtemp(prefix="dms-testnet-"))
    tn = Testnet(tdir)
    try:
        tn.up(n, **kw)
        yield tn
    finally:
        left = tn.down()
        if not left.empty:
            raise AssertionError(f"testnet teardown left {left}")


testnet.__test__ = False  # type: ignore[attr-defined]
