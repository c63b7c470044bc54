"""The library's long jobs without Qt: embedding tracks and launching training.

Each job takes a cancel flag and reports progress; the window's task runner and the command
line's progress bar drive the same functions. Imports any other library package and `engine`.
"""
