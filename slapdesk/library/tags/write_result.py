"""What a tag write returns or raises: file stamps, results, and errors a person can act on."""

from __future__ import annotations

import errno
import os
from dataclasses import dataclass
from pathlib import Path


class TagWriteError(Exception):
    """Writing tags to one file failed; the file is left as it was.

    Attributes:
        path: the file.
        cause: what went wrong (a message or the underlying exception).
        reason: the one-line explanation a user can act on (without the path).
    """

    def __init__(self, path: str | os.PathLike[str], cause: str | BaseException) -> None:
        self.path = Path(path)
        self.cause = cause
        self.reason = cause if isinstance(cause, str) else describe(cause)
        super().__init__(f"{os.fsdecode(self.path)}: {self.reason}")


class FileChangedError(TagWriteError):
    """The file changed on disk since it was indexed (or during the write)."""


@dataclass(frozen=True)
class FileStamp:
    """What identifies one version of a file on disk."""

    size: int  # bytes
    mtime_ns: int  # modification time, nanoseconds
    inode: int  # st_ino; os.replace gives the file a new one

    @classmethod
    def of(cls, path: str | os.PathLike[str]) -> FileStamp:
        """Stat ``path`` (following symlinks)."""
        st = os.stat(path)
        return cls(st.st_size, st.st_mtime_ns, st.st_ino)


@dataclass(frozen=True)
class WriteResult:
    """The outcome of one successful ``write_fields`` call."""

    path: Path  # the real file written (symlinks resolved)
    method: str  # "in-place", "atomic" or "unchanged"
    before: FileStamp  # the file as it was
    after: FileStamp  # the file as it is now (store it so the next scan skips the file)


def describe(exc: BaseException) -> str:
    """The one-line reason for a failed write, for a person (without the path)."""
    if isinstance(exc, OSError):
        if exc.errno == errno.ENOSPC:
            return (
                "not enough free disk space for a safe copy of the file "
                "(the safe rewrite needs free space equal to the file's size); "
                "the original is unchanged"
            )
        if exc.errno in (errno.EACCES, errno.EPERM):
            return (
                f"permission denied ({exc.strerror}): writing tags needs write permission "
                "on the file and on its folder (for the crash-safe journal or copy)"
            )
        if exc.errno == errno.EROFS:
            return "the file lies on a read-only file system"
        if exc.errno == errno.ENOENT:
            return "the file no longer exists"
        return f"{exc.strerror or exc} (errno {exc.errno})"
    return f"{type(exc).__name__}: {exc}"
