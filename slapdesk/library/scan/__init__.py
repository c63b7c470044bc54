"""Scanning music folders into the library: walk the folders, diff against the database, read tags.

Owns the walk (lossless paths, symlink loops), the reader process pool with per-file time limits
and the incremental scan job. Imports `store` for the database and `tags` to read each file.
"""
