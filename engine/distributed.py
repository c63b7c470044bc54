"""Where a training process sits in a ``torchrun`` run, and the one collective the loop needs.

Every function works unchanged in a plain one-process run (world size 1): nothing here starts a
process group unless ``torchrun``'s environment says there is one.
"""

from __future__ import annotations

import dataclasses
import os

import torch


@dataclasses.dataclass
class Dist:
    """Where this process sits in a (possibly one-process) DDP run."""

    rank: int = 0
    world: int = 1
    device: torch.device = dataclasses.field(default_factory=lambda: torch.device("cpu"))

    @property
    def main(self) -> bool:
        """True on the process that does all file I/O."""
        return self.rank == 0

    @property
    def active(self) -> bool:
        """True when a process group spans more than one process."""
        return self.world > 1


def setup_distributed(device: str) -> Dist:
    """Join the process group that ``torchrun`` describes in the environment, if any."""
    from engine.device import resolve_device

    world = int(os.environ.get("WORLD_SIZE", "1"))
    resolved = resolve_device(device)
    if world <= 1:
        return Dist(device=resolved)
    import torch.distributed as dist

    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    if resolved.type == "cuda":
        resolved = torch.device("cuda", local_rank)
        torch.cuda.set_device(resolved)
    if not dist.is_initialized():
        dist.init_process_group(backend="nccl" if resolved.type == "cuda" else "gloo")
    return Dist(rank=dist.get_rank(), world=dist.get_world_size(), device=resolved)


def all_reduce_mean(values: torch.Tensor, dist_: Dist) -> torch.Tensor:
    """Average ``values`` over every process, in place (unchanged in a one-process run)."""
    if dist_.active:
        import torch.distributed as dist

        dist.all_reduce(values)
        values /= dist_.world
    return values
