"""Distil the musicnn MSD / MTT taggers into SLAP captions: ``python -m tools.distill``."""
