"""Run the JavaScript tests of the fetch address policy (runtime/js/netpolicy.js)."""

from __future__ import annotations

import subprocess
from pathlib import Path

from functions_ui.runtime.pool import find_node

NODE_TESTS = Path(__file__).with_name("netpolicy.test.js")


def test_netpolicy_node_suite() -> None:
    proc = subprocess.run(
        [find_node(), "--test", str(NODE_TESTS)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, f"{proc.stdout}\n{proc.stderr}"
