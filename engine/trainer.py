"""The training loop: micro-batches with accumulation, AdamW, warm-up + cosine, EMA, DDP.

One optimizer step = ``accumulate`` micro-batches per rank; the loss of each is scaled by
1 / accumulate and DDP synchronises gradients only on the last one (``no_sync`` before), so
the effective batch is micro × accumulate × world size. SLAP's loss is a mean of per-sample
terms and its heads have no BatchNorm, so an accumulated step equals the large-batch step.

Reproducibility: the data order (DistributedSampler, seeded per epoch), the window and caption
of every clip (a generator per (seed, epoch, clip)) and the torch / NumPy / Python RNG states are
restored from a checkpoint, so a resumed CPU run repeats an uninterrupted one exactly.
"""

from __future__ import annotations

import contextlib
import logging
import math
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, cast

import torch
from torch import nn

from engine.config import SlapCfg, TrainCfg
from engine.data import EpochIndices, collate
from engine.distributed import all_reduce_mean, setup_distributed
from engine.evaluate import gap_metrics, retrieval_metrics
from engine.features import embed_eval_set
from engine.model import ClapModel, SlapModel
from engine.run_parts import RunData, build_run_data, load_model, make_optimizer
from engine.run_records import MetricsLog, model_card, peak_memory_bytes
from engine.schedule import ema_tau, warmup_cosine_lr
from engine.training_checkpoint import (
    find_resume_checkpoint,
    load_checkpoint,
    restore_training_state,
    save_checkpoint,
    unwrap,
)

log = logging.getLogger(__name__)

EXIT_INTERRUPTED = 130


class TrainingError(RuntimeError):
    """The run cannot go on (bad configuration, too many non-finite steps)."""


def _amp_dtype(cfg: TrainCfg, device: torch.device) -> torch.dtype | None:
    if device.type != "cuda" or cfg.amp == "off":
        return None
    if cfg.amp == "fp16":
        return torch.float16
    if cfg.amp == "bf16" or torch.cuda.is_bf16_supported():
        return torch.bfloat16
    return torch.float16


class Trainer:
    """Runs one training job described by a :class:`TrainCfg`."""

    def __init__(self, cfg: TrainCfg, cancel: threading.Event | None = None) -> None:
        """Prepare model, data, optimizer and (on resume) the saved state."""
        self.cfg = cfg
        self.cancel = cancel or threading.Event()
        self.dist = setup_distributed(cfg.device)
        self.out = Path(cfg.out)
        torch.manual_seed(cfg.seed)
        self.model: SlapModel | ClapModel = load_model(cfg).to(self.dist.device)
        self.model_cfg: SlapCfg = self.model.cfg
        self.data: RunData = build_run_data(cfg, self.model, self.dist.device, self.dist.rank)
        self.optimizer = make_optimizer(self.model, cfg)
        self.amp_dtype = _amp_dtype(cfg, self.dist.device)
        fp16 = self.amp_dtype == torch.float16
        self.scaler = torch.amp.GradScaler("cuda", enabled=fp16) if fp16 else None
        self.ddp: nn.Module = self.model
        if self.dist.active:
            ids = [self.dist.device.index] if self.dist.device.type == "cuda" else None
            # Towers may hold parameters a forward never touches (a BERT pooler under mean
            # pooling): DDP must be told, or it waits for their gradients forever.
            self.ddp = nn.parallel.DistributedDataParallel(
                self.model, device_ids=ids, find_unused_parameters=True
            )
        per_step = cfg.batch_size * cfg.accumulate * self.dist.world
        self.draws = EpochIndices(self.data.train)  # clip i drawn weight_i times per epoch
        self.micro_per_epoch = len(self.draws) // (cfg.batch_size * self.dist.world)
        steps_per_epoch = self.micro_per_epoch // cfg.accumulate
        if steps_per_epoch < 1:
            raise TrainingError(
                f"{len(self.data.train)} training clips cannot fill one step of {per_step} "
                "(batch size × accumulate × processes): use a smaller batch"
            )
        self.total_steps = cfg.steps or max(1, math.ceil(cfg.epochs * steps_per_epoch))
        self.warmup = min(cfg.warmup_steps, self.total_steps // 10)
        self.step, self.epoch, self.micro_done = 0, 0, 0
        self.nonfinite_total, self.nonfinite_run = 0, 0
        self.bad_reported: set[tuple[str, int]] = set()
        self._resume()
        self.metrics = MetricsLog(
            self.out / "metrics.jsonl", self.dist.main, self.step if cfg.resume else None
        )

    # ------------------------------------------------------------------------- resume / save
    def _resume(self) -> None:
        if not self.cfg.resume:
            return
        path = find_resume_checkpoint(self.cfg.resume, self.out)
        if path is None:
            log.warning("nothing to resume from (%s): starting from scratch", self.cfg.resume)
            return
        ckpt = load_checkpoint(path)
        if ckpt.meta.get("model") != self.model_cfg.to_dict():
            raise TrainingError(f"{path}: the checkpoint's model differs from this run's")
        restore_training_state(ckpt, self.model, self.optimizer, self.scaler)
        self.step = ckpt.step
        self.epoch, self.micro_done = ckpt.meta["epoch"], ckpt.meta["micro_done"]
        self.nonfinite_total = ckpt.meta.get("nonfinite_total", 0)
        log.info("resumed from %s (step %d)", path, self.step)

    def save_checkpoint(self) -> Path | None:
        """Write a checkpoint of the current step (rank 0); returns its JSON path."""
        if not self.dist.main:
            return None
        meta = {
            "epoch": self.epoch,
            "micro_done": self.micro_done,
            "nonfinite_total": self.nonfinite_total,
            "model": self.model_cfg.to_dict(),
            "train": self.cfg.to_dict(),
        }
        return save_checkpoint(
            self.out / "checkpoints",
            self.step,
            self.model,
            self.optimizer,
            meta,
            self.scaler,
            keep=self.cfg.keep_checkpoints,
        )

    # ------------------------------------------------------------------------- data
    def _micro_batches(self) -> Iterator[dict[str, Any]]:
        """Endless micro-batches from the current data position, epoch after epoch."""
        from torch.utils.data import DataLoader, DistributedSampler

        cfg, ds = self.cfg, self.data.train
        while True:
            ds.set_epoch(self.epoch)
            sampler: DistributedSampler[int] = DistributedSampler(
                self.draws, self.dist.world, self.dist.rank, shuffle=True, seed=cfg.seed,
                drop_last=True)
            sampler.set_epoch(self.epoch)
            order = [self.draws[j] for j in sampler][self.micro_done * cfg.batch_size :]
            usable = self.micro_per_epoch - self.micro_done
            loader = DataLoader(
                ds,
                batch_size=cfg.batch_size,
                sampler=order[: usable * cfg.batch_size],
                num_workers=0 if self.data.cached_audio else cfg.workers,
                collate_fn=collate,
                drop_last=True,
                pin_memory=self.dist.device.type == "cuda",
                generator=torch.Generator().manual_seed(cfg.seed + self.epoch),
            )
            yield from loader
            self.epoch += 1
            self.micro_done = 0

    def _report_failures(self, batch: dict[str, Any]) -> None:
        for bad in batch["failures"]:
            key = (bad.source, bad.row)
            if key not in self.bad_reported:
                self.bad_reported.add(key)
                log.warning("skipping %s", bad)

    # ------------------------------------------------------------------------- one step
    def _forward(self, batch: dict[str, Any]) -> dict[str, torch.Tensor]:
        device = self.dist.device
        x = batch["waveform"].to(device, non_blocking=True)
        kwargs: dict[str, Any] = {}
        mel = None
        if self.data.cached_audio:
            kwargs["audio_features"] = x
        else:
            with torch.no_grad():
                mel = self.model.frontend(x)
            if self.data.spec_augment is not None:
                mel = self.data.spec_augment(mel)
        if self.data.text_cache is not None:
            kwargs["text_features"] = self.data.text_cache.lookup(batch["captions"])
        else:
            tokens = self.model.tokenize(batch["captions"])
            kwargs["tokens"] = {k: v.to(device, non_blocking=True) for k, v in tokens.items()}
        autocast = (
            torch.autocast("cuda", dtype=self.amp_dtype)
            if self.amp_dtype is not None
            else contextlib.nullcontext()
        )
        with autocast:
            return self.ddp(mel, **kwargs)

    def train_step(self, micro: list[dict[str, Any]]) -> dict[str, Any]:
        """One optimizer step over ``accumulate`` micro-batches; returns the step's record."""
        cfg = self.cfg
        lr = warmup_cosine_lr(self.step, cfg.lr, self.warmup, self.total_steps, cfg.min_lr)
        for group in self.optimizer.param_groups:
            group["lr"] = lr
        self.optimizer.zero_grad(set_to_none=True)
        values = self._accumulate_gradients(micro)
        if self.scaler is not None:
            self.scaler.unscale_(self.optimizer)
        params = [p for p in self.model.parameters() if p.requires_grad]
        clip = cfg.grad_clip if cfg.grad_clip > 0 else float("inf")
        grad_norm = float(torch.nn.utils.clip_grad_norm_(params, clip))
        finite = math.isfinite(values["loss"]) and (
            self.scaler is not None or math.isfinite(grad_norm)
        )
        if not finite:
            self._skip_step()
        tau = self._apply_step() if finite else None
        record: dict[str, Any] = {
            "kind": "step",
            "step": self.step + 1,
            "epoch": self.epoch,
            "loss": values.pop("loss"),
            "terms": values,
            "lr": lr,
            "tau": tau,
            "grad_norm": grad_norm if math.isfinite(grad_norm) else None,
            "skipped": not finite,
        }
        if isinstance(self.model, ClapModel):  # SLAP has no temperature
            record["temperature"] = 1.0 / float(self.model.scale().detach())
        return record

    def _accumulate_gradients(self, micro: list[dict[str, Any]]) -> dict[str, float]:
        """Backward over every micro-batch; the loss terms averaged over them and the ranks."""
        sums: dict[str, float] = {}
        for i, batch in enumerate(micro):
            self._report_failures(batch)
            last = i == len(micro) - 1
            ddp = self.ddp if isinstance(self.ddp, nn.parallel.DistributedDataParallel) else None
            # Gradients are all-reduced once per step: on the last micro-batch only.
            sync = ddp.no_sync() if ddp is not None and not last else contextlib.nullcontext()
            with sync:
                out = self._forward(batch)
                loss = out["loss"] / len(micro)
                if self.scaler is not None:
                    self.scaler.scale(loss).backward()
                else:
                    loss.backward()
            for name in ("loss", "a2t", "t2a", "a2a", "t2t"):
                if name in out:
                    sums[name] = sums.get(name, 0.0) + float(out[name].detach()) / len(micro)
        names = sorted(sums)
        reduced = all_reduce_mean(
            torch.tensor([sums[n] for n in names], dtype=torch.float64), self.dist
        )
        return dict(zip(names, reduced.tolist(), strict=True))

    def _apply_step(self) -> float | None:
        """Step the optimizer and the EMA targets; returns the EMA rate used (None for CLAP)."""
        if self.scaler is not None:
            self.scaler.step(self.optimizer)
            self.scaler.update()
        else:
            self.optimizer.step()
        self.nonfinite_run = 0
        if not isinstance(self.model, SlapModel):  # CLAP has no EMA targets
            return None
        mc = self.model_cfg
        tau = ema_tau(self.step, self.total_steps, mc.ema_tau, mc.ema_schedule, mc.ema_tau_end)
        self.model.update_target(tau)
        return tau

    def _skip_step(self) -> None:
        """A non-finite loss or gradient: drop this step, give up after too many in a row."""
        self.optimizer.zero_grad(set_to_none=True)
        self.nonfinite_total += 1
        self.nonfinite_run += 1
        log.warning("step %d: non-finite loss or gradient, step skipped", self.step)
        if self.nonfinite_run >= self.cfg.max_nonfinite:
            raise TrainingError(
                f"{self.nonfinite_run} non-finite steps in a row (lower --lr, or --amp off)"
            )

    # ------------------------------------------------------------------------- evaluation
    def evaluate(self) -> dict[str, float]:
        """Retrieval and modality-gap figures on the held-out clips (rank 0 only)."""
        if self.data.val is None or len(self.data.val) < 2:
            return {}
        audio, text, owner, bad = embed_eval_set(
            self.model,
            self.data.val,
            self.dist.device,
            text_cache=self.data.text_cache,
            audio_features=self.data.val_audio_features,
            workers=self.cfg.workers,
        )
        for item in bad:
            log.warning("evaluation skips %s", item)
        if audio.shape[0] < 2:
            return {}
        metrics = retrieval_metrics(audio, text, owner)
        metrics.update(gap_metrics(audio, text, seed=self.cfg.seed))
        return metrics

    # ------------------------------------------------------------------------- the run
    def run(self) -> int:
        """Train to the last step; write checkpoints, metrics and the bundle. Returns exit code."""
        from tqdm import tqdm

        cfg, main = self.cfg, self.dist.main
        samples_per_step = cfg.batch_size * cfg.accumulate * self.dist.world
        batches = self._micro_batches()
        bar = tqdm(
            total=self.total_steps,
            initial=self.step,
            disable=not (main and cfg.progress),
            unit="step",
            dynamic_ncols=True,
        )
        eval_metrics: dict[str, float] = {}
        try:
            while self.step < self.total_steps:
                start = time.perf_counter()
                micro = [next(batches) for _ in range(cfg.accumulate)]
                record = self.train_step(micro)
                self.step += 1
                self.micro_done += cfg.accumulate
                elapsed = time.perf_counter() - start
                record["samples_per_s"] = samples_per_step / max(elapsed, 1e-9)
                record["peak_mem_bytes"] = peak_memory_bytes(self.dist.device)
                self.metrics.write(record)
                bar.set_postfix(loss=f"{record['loss']:.4f}", sps=f"{record['samples_per_s']:.0f}")
                bar.update(1)
                if (
                    cfg.eval_every
                    and self.step % cfg.eval_every == 0
                    and self.step < self.total_steps
                ):
                    self._eval_and_log()
                if cfg.checkpoint_every and self.step % cfg.checkpoint_every == 0:
                    self.save_checkpoint()
                if self._should_stop():
                    self.save_checkpoint()
                    log.warning(
                        "interrupted at step %d: checkpoint saved; --resume continues", self.step
                    )
                    return EXIT_INTERRUPTED
            eval_metrics = self._eval_and_log()
            self.save_checkpoint()
            if main:
                self._write_bundle(eval_metrics)
            return 0
        finally:
            bar.close()
            self.metrics.close()

    def _should_stop(self) -> bool:
        flag = torch.tensor([1.0 if self.cancel.is_set() else 0.0])
        if self.dist.active:
            import torch.distributed as dist

            dist.all_reduce(flag, op=dist.ReduceOp.MAX)
        return bool(flag.item())

    def _eval_and_log(self) -> dict[str, float]:
        metrics: dict[str, float] = {}
        if self.dist.main:
            metrics = self.evaluate()
            if metrics:
                self.metrics.write({"kind": "eval", "step": self.step, **metrics})
                log.info(
                    "step %d: t2a R@10 %.3f, a2t R@10 %.3f, modality gap %.3f",
                    self.step,
                    metrics["t2a_R@10"],
                    metrics["a2t_R@10"],
                    metrics["modality_gap"],
                )
        if self.dist.active:
            import torch.distributed as dist

            dist.barrier()
        return metrics

    def _write_bundle(self, metrics: dict[str, float]) -> Path:
        from engine.bundle import save_bundle

        folder = self.out / "bundle"
        card = model_card(self.cfg, self.model_cfg, self.data.description, metrics, self.step)
        model = cast(SlapModel | ClapModel, unwrap(self.model))
        model.eval()
        save_bundle(model, folder, card, metrics=metrics)
        log.info("wrote the model bundle %s", folder)
        return folder
