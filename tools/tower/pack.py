r"""Build a training pack for ``tools.tower.train`` (runs here, on CPU, with PyAV and MiniLM).

Examples::

    python -m tools.tower.pack --init resources/models/default \\
        --manifest corpus_out/old_rec_synth_v4g.jsonl --manifest corpus_out/new_rec_v4g.jsonl \\
        --out .gpu/pack --feature-cache runs/feature-cache

The pack holds exactly what the frozen-feature trainer (``--cache-windows 1``) reads: each
clip's one fixed window (the middle one), its captions and its weight, so a frozen arm
trained from it is the same recipe as ``slapdesk-train --freeze-audio-encoder``.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

import numpy as np
import torch

from tools.tower.packfile import MEL_FILE, Pack, save_pack

log = logging.getLogger("tools.tower.pack")


def _parse(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m tools.tower.pack", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--init", required=True, help="bundle folder the GPU run starts from")
    p.add_argument("--manifest", action="append", required=True,
                   help="training manifest (repeatable, read in this order)")
    p.add_argument("--out", required=True, help="folder to write the pack into")
    p.add_argument("--feature-cache", default=None,
                   help="folder of cached text features (the trainer's --feature-cache)")
    return p.parse_args(argv)


def _clips(manifests: list[str]) -> list:
    from engine.data import read_manifest

    clips = []
    for path in manifests:
        source = read_manifest(path)
        for bad in source.bad:
            log.warning("skipped %s", bad)
        clips.extend(source.clips)
    return clips


@torch.no_grad()
def _mels(clips: list, model) -> tuple[np.ndarray, list[int]]:
    """Each clip's middle window as a log-mel [N, n_mels, T] (float32), and the kept rows.

    The windows come through ``engine.features.iter_fixed_windows``, the loop that fills
    the trainer's feature cache, so a frozen arm reads exactly what the cache holds.
    """
    from engine.data import ClipDataset
    from engine.features import iter_fixed_windows

    mels, kept = [], []
    source = ClipDataset(clips, model.cfg.frontend)
    for i, windows, error in iter_fixed_windows(source, n_windows=1):
        if windows is None:
            log.warning("%s: cannot decode, left out: %s", clips[i].path, error)
            continue
        mels.append(model.frontend(torch.from_numpy(windows))[0].numpy())
        kept.append(i)
        if len(kept) % 250 == 0:
            log.info("%d of %d clips read", len(kept), len(clips))
    return np.stack(mels), kept


def build(init: str, manifests: list[str], feature_cache: str | None) -> Pack:
    """Read the clips, their windows and captions, and the starting weights."""
    from engine.bundle import load_bundle
    from engine.features import TextFeatureCache

    bundle = load_bundle(init, device="cpu", with_target=False)
    model = bundle.model
    clips = _clips(manifests)
    mels, kept = _mels(clips, model)
    clips = [clips[i] for i in kept]
    captions = [c for clip in clips for c in clip.captions]
    text = TextFeatureCache.build_cached(model, captions, torch.device("cpu"), feature_cache)
    unique = list(text.index)
    offsets = np.cumsum([0] + [len(c.captions) for c in clips])
    state = {k: v for k, v in model.online_state_dict().items()
             if not k.startswith("text_encoder.")}
    return Pack(
        mels=mels,
        caption_ids=np.array([text.index[c] for c in captions], dtype=np.int32),
        caption_offsets=offsets.astype(np.int64),
        weights=np.array([c.weight for c in clips], dtype=np.int32),
        text_features=text.features[[text.index[c] for c in unique]].numpy(),
        init_state={k: v.numpy() for k, v in state.items()},
        model_cfg=model.cfg.to_dict(),
        paths=[c.path for c in clips],
    )


def main(argv: list[str] | None = None) -> int:
    """Entry point: build and write the pack, print its size."""
    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stderr)
    args = _parse(argv)
    torch.set_num_threads(1)
    pack = build(args.init, args.manifest, args.feature_cache)
    out = Path(args.out)
    save_pack(pack, out)
    sizes = {p.name: p.stat().st_size for p in out.iterdir()}
    print(json.dumps({"clips": len(pack.paths), "captions": len(pack.caption_ids),
                      "distinct_captions": len(pack.text_features),
                      "mel_file": MEL_FILE, "bytes": sizes}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
