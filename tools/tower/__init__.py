"""Training the audio tower unfrozen on a lent GPU, from a pack built here on CPU.

The GPU machine this project is sometimes lent has PyTorch but neither PyAV nor the packaged
text model, and takes at most 64 MiB of files with it. So the parts it cannot run are done
here, once, and packed (``python -m tools.tower.pack``): each training clip's fixed window as
an 8-bit log-mel (the exact input of the audio tower, ~18 KB), the frozen text tower's
features of every caption, and the starting bundle's weights in float16. There
``python -m tools.tower.train`` trains heads and tower with the engine's own model, loss,
EMA and schedule, in two arms that differ only in whether the tower learns, and writes
their weights; back here ``python -m tools.tower.assemble`` makes each a bundle that the
usual evaluations (``tools.validation``, ``tools.zeroshot_eval``) read.

This package must import nothing the GPU machine lacks: torch, numpy and the engine's
pure-torch modules only (never ``engine.audio``, which needs PyAV, or the text tower).
"""
