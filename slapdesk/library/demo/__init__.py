"""The demo library: a small pure-numpy synthesizer and real files in every supported format.

Used by `slapdesk demo` and by the tests' fixtures. Imports `store`, `scan` and `tags` only.
"""
