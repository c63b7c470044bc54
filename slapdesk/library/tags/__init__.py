"""Everything about the tags inside audio files: formats, the field map, reading and safe writing.

Owns the format registry (``formats``: one record per container, which everything else asks),
the declarative field map, the never-raising reader, the verified writer with its crash-safe
in-place path (``rollback``), integrity checks, and the undo journal with its runs. Imports
`store` for the journal's tables; never imports `search`, `autotag` or the model.
"""
