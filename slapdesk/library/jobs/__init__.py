"""The library's long jobs without Qt, and the one contract they share.

Every job takes a ``control.JobControl`` (a cancel flag + progress reports of
``slapdesk.library.progress.Progress``) and returns what it did; the window's task runner and
the command line's progress bar drive the same functions. ``scan``, ``active_model`` (choosing,
loading and embedding with the active model), ``embed`` (the embedding engine's scheduling and
storage), ``propose`` and ``apply`` (tag proposals, writing and undo), ``search`` (the one
ranking path of the window and ``slapdesk search``), ``map_points`` (the embedding map's data)
and ``training`` (launching the trainer).
Imports any other library package and `engine`; never Qt.
"""
