"""The device list of the training panel: torch is asked in a child process, never imported."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[4]

_LIST = """
import json, sys
from slapdesk.library.jobs.training import available_devices
devices = available_devices()
print(json.dumps({"torch imported": "torch" in sys.modules,
                  "devices": [d.value for d in devices]}))
"""


def test_listing_devices_does_not_import_torch_into_the_asking_process() -> None:
    done = subprocess.run([sys.executable, "-c", _LIST], cwd=ROOT, capture_output=True,
                          text=True, timeout=300, check=True)
    answer = json.loads(done.stdout.strip().splitlines()[-1])
    assert answer["torch imported"] is False
    assert answer["devices"][:2] == ["auto", "cpu"]
    # Whatever else this machine has, it comes from torch's own answer, in the same order.
    import torch

    gpus = [f"cuda:{i}" for i in range(torch.cuda.device_count())]
    assert answer["devices"][2:2 + len(gpus)] == gpus
