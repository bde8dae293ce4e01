import os
import shutil

import pytest


@pytest.fixture
def need_netns():
    """Namespaces need root and iproute2; say so instead of skipping."""
    if os.geteuid() != 0 or shutil.which("ip") is None:
        pytest.fail("netns tests need root and iproute2 (apt-get install iproute2); "
                    "scripts/setup installs it, and CI runs as root")
