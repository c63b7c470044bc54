"""Zero-shot auto-tagging: vocabularies, calibrated scores against text prompts, stored proposals.

Owns the TOML vocabularies, the scoring of track vectors against prompt ensembles and the proposal
job. Imports `store`, `search` (to read track vectors) and the plans of `tags`; it never writes a
file: applying proposals goes through `tags.journal`.
"""
