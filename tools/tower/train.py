"""Train from a pack with the audio tower frozen or learning (the GPU half; CPU works too).

Examples::

    python -m tools.tower.train .gpu/pack --out $OUT --arms frozen,unfrozen --seeds 0

Both arms run the engine's SLAP model, loss, EMA targets and warm-up + cosine schedule with
the frozen-feature trainer's defaults (AdamW, weight decay 0.05 off biases and norms, global
gradient clip 1.0, τ from the starting bundle). They differ in one thing only: in the
``unfrozen`` arm the tower's weights learn too, at ``--tower-lr`` (its BatchNorm statistics
stay fixed, as the tower always keeps them), with an EMA copy as SLAP's target tower.
Each (arm, seed) writes ``ARM-sSEED-K.npz`` weight parts and ``ARM-sSEED.jsonl`` metrics.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path

import numpy as np
import torch
from torch import nn

from tools.tower.packfile import Pack, load_pack, save_state


class _PrecomputedText(nn.Module):
    """Stands in for the text tower: its features come from the pack (frozen tower)."""

    def __init__(self, out_dim: int) -> None:
        super().__init__()
        self.out_dim = out_dim

    def forward(self, **tokens: torch.Tensor) -> torch.Tensor:
        raise RuntimeError("the text tower is not on this machine: use packed text features")


def build_arm(pack: Pack, unfrozen: bool):
    """The SLAP model of the pack's configuration, at its starting weights, targets reset."""
    from engine.config import SlapCfg
    from engine.model import SlapModel
    from engine.towers.musicnn import build_musicnn

    cfg = SlapCfg.from_dict(pack.model_cfg)
    params = {**cfg.audio.params, "weights": None, "trainable": unfrozen}
    tower = build_musicnn(cfg.frontend, **params)
    model = SlapModel(cfg, tower, _PrecomputedText(pack.text_features.shape[1]))
    model.load_online_state_dict({k: torch.from_numpy(v) for k, v in pack.init_state.items()})
    model.train()
    return model


def _optimizer(model: nn.Module, weight_decay: float) -> torch.optim.AdamW:
    """AdamW groups: (tower or heads) × (decayed or not); ``tower`` says whose peak rate.

    Decay follows the trainer's rule (``engine.run_parts.takes_weight_decay``).
    """
    from engine.run_parts import takes_weight_decay

    groups: dict[tuple[bool, bool], list[nn.Parameter]] = {}
    for name, param in model.named_parameters():
        if not param.requires_grad:
            continue
        key = (name.startswith("audio_encoder."), takes_weight_decay(name, param))
        groups.setdefault(key, []).append(param)
    return torch.optim.AdamW(
        [{"params": ps, "tower": tower, "weight_decay": weight_decay if decay else 0.0}
         for (tower, decay), ps in groups.items()],
        betas=(0.9, 0.999),
    )


def epoch_draws(pack: Pack, seed: int, epoch: int) -> np.ndarray:
    """One epoch's clips in order: clip i ``weights[i]`` times, shuffled by (seed, epoch)."""
    draws = np.repeat(np.arange(len(pack.weights)), pack.weights)
    return np.random.default_rng([seed, epoch]).permutation(draws)


def _caption_rows(pack: Pack, clips: np.ndarray, seed: int, epoch: int) -> np.ndarray:
    from engine.data import sample_rng

    rows = []
    for clip in clips:
        ids = pack.captions_of(int(clip))
        rows.append(ids[sample_rng(seed, epoch, int(clip)).integers(len(ids))])
    return np.array(rows)


def batches(pack: Pack, seed: int, batch: int):
    """Endless (epoch, clips, caption rows) batches; an epoch's last partial batch is dropped."""
    epoch = 0
    while True:
        draws = epoch_draws(pack, seed, epoch)
        for start in range(0, len(draws) - batch + 1, batch):
            clips = draws[start : start + batch]
            yield epoch, clips, _caption_rows(pack, clips, seed, epoch)
        epoch += 1


def _args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m tools.tower.train", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("pack", help="folder written by tools.tower.pack")
    p.add_argument("--out", required=True, help="folder for weight parts and metrics")
    p.add_argument("--arms", default="frozen,unfrozen", help="frozen, unfrozen, or both")
    p.add_argument("--seeds", default="0", help="comma-separated seeds")
    p.add_argument("--steps", type=int, default=600, help="optimizer steps per run")
    p.add_argument("--batch", type=int, default=256, help="clips per step")
    p.add_argument("--lr", type=float, default=3e-4, help="peak learning rate of the heads")
    p.add_argument("--tower-lr", type=float, default=1e-5, help="peak learning rate of the tower")
    p.add_argument("--min-lr", type=float, default=1e-6, help="floor of the cosine decay")
    p.add_argument("--warmup", type=int, default=30, help="warm-up steps")
    p.add_argument("--weight-decay", type=float, default=0.05)
    p.add_argument("--device", default="auto",
                   help="auto (as slapdesk-train: CUDA, then MPS, else CPU), cuda or cpu")
    p.add_argument("--log-every", type=int, default=50, help="steps between metric lines")
    return p.parse_args(argv)


class Run:
    """One (arm, seed): the model, its optimizer and the device copies of the pack."""

    def __init__(self, pack: Pack, args: argparse.Namespace, unfrozen: bool, seed: int,
                 device: torch.device) -> None:
        torch.manual_seed(seed)
        self.args, self.unfrozen, self.seed, self.device = args, unfrozen, seed, device
        self.model = build_arm(pack, unfrozen).to(device)
        self.optimizer = _optimizer(self.model, args.weight_decay)
        self.mels = torch.from_numpy(pack.mels).to(device)
        self.text = torch.from_numpy(pack.text_features).to(device)
        self.amp = (torch.autocast("cuda", dtype=torch.bfloat16) if device.type == "cuda"
                    else torch.autocast("cpu", enabled=False))

    def _forward(self, clips: np.ndarray, rows: np.ndarray) -> dict[str, torch.Tensor]:
        mel = self.mels[torch.from_numpy(clips).to(self.device)]
        text = self.text[torch.from_numpy(rows).to(self.device)]
        with self.amp:
            if self.unfrozen:
                return self.model(mel, text_features=text)
            with torch.no_grad():  # frozen: the tower's outputs, as the feature cache holds
                features = self.model.audio_encoder(mel).float()
            return self.model(None, text_features=text, audio_features=features)

    def step(self, step: int, clips: np.ndarray, rows: np.ndarray) -> dict[str, float]:
        """One optimizer step; returns the loss terms and the gradient norm."""
        from engine.schedule import ema_tau, warmup_cosine_lr

        a = self.args
        for group in self.optimizer.param_groups:
            peak = a.tower_lr if group["tower"] else a.lr
            group["lr"] = warmup_cosine_lr(step, peak, a.warmup, a.steps, min(a.min_lr, peak))
        self.optimizer.zero_grad(set_to_none=True)
        out = self._forward(clips, rows)
        out["loss"].backward()
        params = [p for p in self.model.parameters() if p.requires_grad]
        norm = float(torch.nn.utils.clip_grad_norm_(params, 1.0))
        self.optimizer.step()
        cfg = self.model.cfg
        self.model.update_target(ema_tau(step, a.steps, cfg.ema_tau, cfg.ema_schedule,
                                         cfg.ema_tau_end))
        record = {k: float(out[k].detach()) for k in ("loss", "a2t", "t2a", "a2a", "t2t")}
        record["grad_norm"] = norm
        return record


def train_one(pack: Pack, args: argparse.Namespace, arm: str, seed: int,
              device: torch.device, out: Path) -> dict[str, float]:
    """Train one (arm, seed), write its weights and metrics; returns the last record."""
    run = Run(pack, args, arm == "unfrozen", seed, device)
    start = time.perf_counter()
    record: dict[str, float] = {}
    with (out / f"{arm}-s{seed}.jsonl").open("w", encoding="utf-8") as log:
        steps = zip(range(args.steps), batches(pack, seed, args.batch), strict=False)
        for step, (epoch, clips, rows) in steps:
            record = run.step(step, clips, rows)
            if not math.isfinite(record["loss"]):
                raise FloatingPointError(f"{arm} seed {seed}: loss not finite at step {step + 1}")
            if (step + 1) % args.log_every == 0 or step + 1 == args.steps:
                record.update(step=step + 1, epoch=epoch, seconds=time.perf_counter() - start)
                log.write(json.dumps(record) + "\n")
                print(f"{arm} s{seed} step {step + 1}: loss {record['loss']:.4f}", flush=True)
    run.model.cpu()
    state = {k: v.numpy() for k, v in run.model.online_state_dict().items()}
    save_state(state, out, f"{arm}-s{seed}")
    return record


def main(argv: list[str] | None = None) -> int:
    """Entry point: every requested arm and seed in turn."""
    from engine.device import resolve_device

    args = _args(argv)
    device = resolve_device(args.device)
    torch.backends.cuda.matmul.allow_tf32 = True
    # musicnn's front end is many small convolutions of odd shapes: let cuDNN pick each one's
    # fastest algorithm once (the unfrozen arm took 278 s for 600 steps on an H200 without).
    torch.backends.cudnn.benchmark = True
    pack = load_pack(Path(args.pack))
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    arms = [a for a in args.arms.split(",") if a]
    if not set(arms) <= {"frozen", "unfrozen"}:
        print(f"unknown arm in {args.arms!r}: use frozen and/or unfrozen", file=sys.stderr)
        return 2
    print(f"{len(pack.paths)} clips, {len(pack.text_features)} captions, device {device}"
          + (f" ({torch.cuda.get_device_name(device)})" if device.type == "cuda" else ""))
    for seed in [int(s) for s in args.seeds.split(",")]:
        for arm in arms:
            last = train_one(pack, args, arm, seed, device, out)
            print(f"{arm} s{seed} done: {json.dumps(last)}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
