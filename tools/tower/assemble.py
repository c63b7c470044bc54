r"""Make a bundle of weights trained by ``tools.tower.train`` (runs here, with the text tower).

Examples::

    python -m tools.tower.assemble /work/.device/out unfrozen-s0 \\
        --init resources/models/default --out runs/tower/unfrozen-s0

The starting bundle gives the architecture and the text tower; the trained parts replace
every other weight. The GPU run sent its weights back in float16, so the bundle holds the
float16 values (widened): both arms lose the same precision.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import torch

from tools.tower.packfile import load_state


def assemble(run_dir: Path, name: str, init: str, out: Path, note: str = "") -> str:
    """Write the bundle of run ``name`` (e.g. ``unfrozen-s0``); returns its model id."""
    from engine.bundle import load_bundle, save_bundle

    model = load_bundle(init, device="cpu", with_target=False).model
    trained = {k: torch.from_numpy(v) for k, v in load_state(run_dir, name).items()}
    expected = {k for k in model.online_state_dict() if not k.startswith("text_encoder.")}
    if set(trained) != expected:
        missing, extra = sorted(expected - set(trained)), sorted(set(trained) - expected)
        raise KeyError(f"{name}: weights do not fit {init}: missing {missing[:5]}, "
                       f"unexpected {extra[:5]}")
    model.load_state_dict(trained, strict=False)
    metrics_file = run_dir / f"{name}.jsonl"
    lines = metrics_file.read_text(encoding="utf-8").splitlines() if metrics_file.exists() else []
    last = lines[-1] if lines else ""
    card = (f"# {name}: trained by tools.tower.train from `{init}`\n\n"
            f"Arm `{name}` of the frozen-against-unfrozen audio tower comparison "
            f"(docs/validation.md). {note}\n\nLast training record: `{last}`\n")
    metrics = {"train_" + k: v for k, v in json.loads(last).items()} if last else None
    return save_bundle(model, out, card, metrics)


def main(argv: list[str] | None = None) -> int:
    """Entry point: print the new bundle's model id."""
    p = argparse.ArgumentParser(prog="python -m tools.tower.assemble", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("run_dir", help="folder with NAME-K.npz weight parts (train.py's --out)")
    p.add_argument("name", help="which run: ARM-sSEED, e.g. unfrozen-s0")
    p.add_argument("--init", required=True, help="the bundle the pack was built from")
    p.add_argument("--out", required=True, help="bundle folder to write")
    p.add_argument("--note", default="", help="a sentence for the model card")
    args = p.parse_args(argv)
    model_id = assemble(Path(args.run_dir), args.name, args.init, Path(args.out), args.note)
    print(f"{args.out}: model id {model_id}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
