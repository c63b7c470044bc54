"""HTS-AT (Chen et al., ICASSP 2022): a Swin Transformer over log-mel, the SLAP paper's audio tower.

Written from the papers (HTS-AT; Swin Transformer, Liu et al. 2021) so that parameter names
and shapes are those of LAION-CLAP's HTS-AT (``audio_branch.*`` in its checkpoints): a
user's local CLAP file initialises this tower through ``init_audio_encoder_from``.

The log-mel ``[B, n_mels, T]`` is normalised per mel band (``bn0``), resized to
``freq_ratio * spec_size`` frames and folded into a ``spec_size x spec_size`` image: the
time axis is cut into ``freq_ratio`` chunks stacked along the frequency axis. 4x4 patches,
four Swin stages with (shifted) window attention and patch merging, a final LayerNorm, and
the mean over all tokens is the embedding (1,024-d for ``htsat-base``). The token-semantic
head (``tscam_conv``, ``head``) exists for checkpoint compatibility only and is frozen.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F  # noqa: N812
from torch import nn

from engine.config import AudioFrontendCfg
from engine.towers.registry import register_audio_encoder

# LAION's front-end tensors (STFT kernels, mel matrix) live inside its audio branch;
# ours is engine.audio.LogMel, so these keys are expected in a LAION file and skipped.
LAION_FRONTEND_PREFIXES = ("spectrogram_extractor.", "logmel_extractor.")


def _relative_position_index(window: int) -> torch.Tensor:
    """Index into the relative-bias table for every (query, key) pair of a window."""
    coords = torch.stack(torch.meshgrid(torch.arange(window), torch.arange(window), indexing="ij"))
    flat = coords.flatten(1)  # [2, window^2]
    rel = (flat[:, :, None] - flat[:, None, :]).permute(1, 2, 0) + (window - 1)
    return rel[..., 0] * (2 * window - 1) + rel[..., 1]


def _partition(x: torch.Tensor, window: int) -> torch.Tensor:
    """[B, H, W, C] -> [B * windows, window^2, C]."""
    b, h, w, c = x.shape
    x = x.view(b, h // window, window, w // window, window, c).transpose(2, 3)
    return x.reshape(-1, window * window, c)


def _merge(windows: torch.Tensor, window: int, h: int, w: int) -> torch.Tensor:
    """Inverse of :func:`_partition`: [B * windows, window^2, C] -> [B, H, W, C]."""
    c = windows.shape[-1]
    x = windows.view(-1, h // window, w // window, window, window, c).transpose(2, 3)
    return x.reshape(-1, h, w, c)


def _shift_mask(h: int, w: int, window: int, shift: int) -> torch.Tensor:
    """Additive mask keeping attention inside the regions that a cyclic shift brought together."""
    region = torch.zeros(1, h, w, 1)
    spans = (slice(0, -window), slice(-window, -shift), slice(-shift, None))
    label = 0
    for hs in spans:
        for ws in spans:
            region[:, hs, ws, :] = label
            label += 1
    ids = _partition(region, window).squeeze(-1)  # [windows, window^2]
    diff = ids[:, None, :] - ids[:, :, None]
    return torch.zeros_like(diff).masked_fill(diff != 0, -100.0)


class WindowAttention(nn.Module):
    """Multi-head self-attention inside a window, with a learned relative position bias."""

    relative_position_index: torch.Tensor  # a buffer, declared so that type checkers see a tensor

    def __init__(self, dim: int, window: int, heads: int) -> None:
        super().__init__()
        self.window, self.heads = window, heads
        self.relative_position_bias_table = nn.Parameter(torch.zeros((2 * window - 1) ** 2, heads))
        self.register_buffer("relative_position_index", _relative_position_index(window))
        self.qkv = nn.Linear(dim, 3 * dim)
        self.proj = nn.Linear(dim, dim)
        _trunc_normal(self.relative_position_bias_table)

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
        """Attend within each window: ``x`` [windows * B, N, C], ``mask`` [windows, N, N]."""
        n_win, tokens, dim = x.shape
        q, k, v = self.qkv(x).view(n_win, tokens, 3, self.heads, -1).permute(2, 0, 3, 1, 4)
        bias = self.relative_position_bias_table[self.relative_position_index.view(-1)]
        bias = bias.view(tokens, tokens, -1).permute(2, 0, 1)  # [heads, N, N]
        if mask is None:
            attn_bias = bias[None]
        else:
            groups = mask.shape[0]  # windows per image
            attn_bias = (bias[None, None] + mask[None, :, None]).expand(
                n_win // groups, groups, self.heads, tokens, tokens
            )
            attn_bias = attn_bias.reshape(n_win, self.heads, tokens, tokens)
        out = F.scaled_dot_product_attention(q, k, v, attn_mask=attn_bias.to(q.dtype))
        return self.proj(out.transpose(1, 2).reshape(n_win, tokens, dim))


class Mlp(nn.Module):
    """Two linear layers with GELU (names as LAION: fc1, fc2)."""

    def __init__(self, dim: int, hidden: int, drop: float) -> None:
        super().__init__()
        self.fc1, self.fc2 = nn.Linear(dim, hidden), nn.Linear(hidden, dim)
        self.drop = nn.Dropout(drop)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Apply the MLP token-wise."""
        return self.drop(self.fc2(self.drop(F.gelu(self.fc1(x)))))


def _drop_path(x: torch.Tensor, rate: float, training: bool) -> torch.Tensor:
    """Stochastic depth: drop the whole residual branch for some examples while training."""
    if rate == 0.0 or not training:
        return x
    keep = torch.empty((x.shape[0],) + (1,) * (x.dim() - 1), device=x.device, dtype=x.dtype)
    return x * keep.bernoulli_(1 - rate) / (1 - rate)


class SwinBlock(nn.Module):
    """LayerNorm, (shifted) window attention, LayerNorm, MLP; both with residuals."""

    def __init__(
        self, dim: int, resolution: int, heads: int, window: int, shift: int, mlp_ratio: float,
        drop: float, drop_path: float,
    ) -> None:  # fmt: skip
        super().__init__()
        if resolution <= window:  # one window covers the map: nothing to shift
            window, shift = resolution, 0
        self.resolution, self.window, self.shift, self.drop_path = (
            resolution,
            window,
            shift,
            drop_path,
        )
        self.norm1 = nn.LayerNorm(dim)
        self.attn = WindowAttention(dim, window, heads)
        self.norm2 = nn.LayerNorm(dim)
        self.mlp = Mlp(dim, int(dim * mlp_ratio), drop)
        mask = _shift_mask(resolution, resolution, window, shift) if shift else None
        self.register_buffer("attn_mask", mask)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Tokens ``[B, H * W, C]`` -> same shape."""
        b, _, c = x.shape
        h = w = self.resolution
        y = self.norm1(x).view(b, h, w, c)
        if self.shift:
            y = torch.roll(y, shifts=(-self.shift, -self.shift), dims=(1, 2))
        y = self.attn(_partition(y, self.window), self.attn_mask)
        y = _merge(y, self.window, h, w)
        if self.shift:
            y = torch.roll(y, shifts=(self.shift, self.shift), dims=(1, 2))
        x = x + _drop_path(y.reshape(b, h * w, c), self.drop_path, self.training)
        return x + _drop_path(self.mlp(self.norm2(x)), self.drop_path, self.training)


class PatchMerging(nn.Module):
    """2x2 neighbouring tokens concatenated (4C), LayerNorm, linear to 2C."""

    def __init__(self, resolution: int, dim: int) -> None:
        super().__init__()
        self.resolution = resolution
        self.norm = nn.LayerNorm(4 * dim)
        self.reduction = nn.Linear(4 * dim, 2 * dim, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Tokens ``[B, H * W, C]`` -> ``[B, H * W / 4, 2C]``."""
        b, _, c = x.shape
        x = x.view(b, self.resolution, self.resolution, c)
        # Order (even,even), (odd,even), (even,odd), (odd,odd): the checkpoints depend on it.
        parts = [x[:, 0::2, 0::2], x[:, 1::2, 0::2], x[:, 0::2, 1::2], x[:, 1::2, 1::2]]
        x = torch.cat(parts, dim=-1).view(b, -1, 4 * c)
        return self.reduction(self.norm(x))


class SwinStage(nn.Module):
    """``depth`` blocks alternating plain and shifted windows, then optional patch merging."""

    def __init__(
        self, dim: int, resolution: int, depth: int, heads: int, window: int, mlp_ratio: float,
        drop: float, drop_paths: list[float], downsample: bool,
    ) -> None:  # fmt: skip
        super().__init__()
        self.blocks = nn.ModuleList(
            SwinBlock(dim, resolution, heads, window, (i % 2) * (window // 2), mlp_ratio, drop,
                      drop_paths[i])
            for i in range(depth)
        )  # fmt: skip
        self.downsample = PatchMerging(resolution, dim) if downsample else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Run the blocks, then merge patches."""
        for block in self.blocks:
            x = block(x)
        return self.downsample(x) if self.downsample is not None else x


class PatchEmbed(nn.Module):
    """Non-overlapping patches of the spectrogram image -> tokens (conv ``proj`` + LayerNorm)."""

    def __init__(self, patch: int, dim: int) -> None:
        super().__init__()
        self.proj = nn.Conv2d(1, dim, kernel_size=patch, stride=patch)
        self.norm = nn.LayerNorm(dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Image ``[B, 1, H, W]`` -> tokens ``[B, H * W / patch^2, C]``."""
        return self.norm(self.proj(x).flatten(2).transpose(1, 2))


class HTSAT(nn.Module):
    """HTS-AT audio tower: log-mel ``[B, n_mels, T]`` -> ``[B, out_dim]``."""

    init_ignore_prefixes = LAION_FRONTEND_PREFIXES

    def __init__(
        self,
        frontend: AudioFrontendCfg,
        spec_size: int = 256,
        patch_size: int = 4,
        embed_dim: int = 128,
        depths: tuple[int, ...] = (2, 2, 12, 2),
        num_heads: tuple[int, ...] = (4, 8, 16, 32),
        window_size: int = 8,
        mlp_ratio: float = 4.0,
        num_classes: int = 527,
        drop_rate: float = 0.0,
        drop_path_rate: float = 0.1,
    ) -> None:
        """Create the tower (defaults: LAION-CLAP's ``HTSAT-base``).

        Args:
            frontend: log-mel settings; ``spec_size`` must be a multiple of ``n_mels``.
            spec_size: side of the square spectrogram image.
            patch_size: patch side (and stride), in image cells.
            embed_dim: token width of the first stage (doubles per stage).
            depths: Swin blocks per stage.
            num_heads: attention heads per stage.
            window_size: attention window side, in tokens.
            mlp_ratio: MLP hidden width / token width.
            num_classes: classes of the (frozen, unused) token-semantic head; 527 = AudioSet.
            drop_rate: dropout in the MLPs.
            drop_path_rate: stochastic depth, rising linearly to this over all blocks.
        """
        super().__init__()
        n_mels = frontend.n_mels
        if spec_size % n_mels:
            raise ValueError(f"HTS-AT spec_size {spec_size} must be a multiple of n_mels {n_mels}")
        self.spec_size, self.freq_ratio = spec_size, spec_size // n_mels
        n_stages = len(depths)
        self.out_dim = int(embed_dim * 2 ** (n_stages - 1))
        self.bn0 = nn.BatchNorm2d(n_mels)
        self.patch_embed = PatchEmbed(patch_size, embed_dim)
        grid = spec_size // patch_size
        n_blocks = sum(depths)  # plain floats: the tower can be built on the meta device
        rates = [drop_path_rate * i / max(n_blocks - 1, 1) for i in range(n_blocks)]
        self.layers = nn.ModuleList()
        for i, depth in enumerate(depths):
            first = sum(depths[:i])
            self.layers.append(
                SwinStage(embed_dim * 2**i, grid // 2**i, depth, num_heads[i], window_size,
                          mlp_ratio, drop_rate, rates[first : first + depth],
                          downsample=i < n_stages - 1)
            )  # fmt: skip
        self.norm = nn.LayerNorm(self.out_dim)
        # Token-semantic CAM head: kept so that checkpoints load whole; frozen and unused.
        head_freq = spec_size // 2 ** (n_stages - 1) // patch_size // self.freq_ratio
        self.tscam_conv = nn.Conv2d(self.out_dim, num_classes, (head_freq, 3), padding=(0, 1))
        self.head = nn.Linear(num_classes, num_classes)
        self.apply(_init_weights)
        for module in (self.tscam_conv, self.head):
            module.requires_grad_(False)

    def to_image(self, mel: torch.Tensor) -> torch.Tensor:
        """Log-mel ``[B, F, T]`` -> the ``[B, 1, spec_size, spec_size]`` image HTS-AT sees."""
        x = self.bn0(mel.unsqueeze(-1)).squeeze(-1)  # per-band normalisation
        target_t = self.spec_size * self.freq_ratio
        if x.shape[-1] != target_t:
            x = F.interpolate(
                x[:, None], (x.shape[1], target_t), mode="bicubic", align_corners=True
            )
            x = x[:, 0]
        b, f, _ = x.shape
        # Cut time into freq_ratio chunks and stack them along frequency.
        x = x.view(b, f, self.freq_ratio, target_t // self.freq_ratio).transpose(1, 2)
        return x.reshape(b, 1, f * self.freq_ratio, target_t // self.freq_ratio)

    def forward(self, mel: torch.Tensor) -> torch.Tensor:
        """Embed log-mel ``[B, n_mels, T]`` into ``[B, out_dim]`` (mean of the final tokens)."""
        x = self.patch_embed(self.to_image(mel))
        for layer in self.layers:
            x = layer(x)
        return self.norm(x).mean(dim=1)


def _trunc_normal(tensor: torch.Tensor, std: float = 0.02) -> None:
    """N(0, std) cut at +-2 (as Swin's trunc_normal_); normal_ + clamp is 10x faster on a CPU."""
    with torch.no_grad():
        tensor.normal_(0.0, std).clamp_(-2.0, 2.0)


def _init_weights(module: nn.Module) -> None:
    if isinstance(module, nn.Linear):
        _trunc_normal(module.weight)
        if module.bias is not None:
            nn.init.zeros_(module.bias)
    elif isinstance(module, nn.LayerNorm):
        nn.init.ones_(module.weight)
        nn.init.zeros_(module.bias)


@register_audio_encoder("htsat-base")
def htsat_base(frontend: AudioFrontendCfg, **params: object) -> HTSAT:
    """HTS-AT base as in the SLAP paper and LAION-CLAP (embed 128, depths 2-2-12-2, 1,024-d)."""
    return HTSAT(frontend, **params)  # type: ignore[arg-type]


@register_audio_encoder("htsat-tiny")
def htsat_tiny(frontend: AudioFrontendCfg, **params: object) -> HTSAT:
    """A tiny HTS-AT for tests: same code path, a few thousand parameters per block."""
    small: dict[str, object] = {
        "spec_size": 2 * frontend.n_mels,
        "embed_dim": 16,
        "depths": (2, 2),
        "num_heads": (1, 2),
        "window_size": 4,
        "num_classes": 8,
    }
    small.update(params)
    return HTSAT(frontend, **small)  # type: ignore[arg-type]
