"""Real-music validation suite (docs/validation.md): ``python -m tools.validation``."""
