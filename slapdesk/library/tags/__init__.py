"""Everything about the tags inside audio files: formats, the field map, reading and safe writing.

Owns the container formats, the declarative field map, the never-raising reader, the verified
writer, integrity checks, and the undo journal with its runs. Imports `store` for the journal's
tables; never imports `search`, `autotag` or the model.
"""
