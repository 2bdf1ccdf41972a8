"""Writing a set of generated files: all or nothing, durable, with the umask's mode.

`write_set(files, directory)` writes every file to a temporary file in `directory` (created
`O_EXCL`, mode `0o666 & ~umask`, fsynced), then renames them into place one by one. Existing
targets are copied aside first; if any step fails, the renamed files are put back as they were,
files that did not exist are removed and every temporary file is deleted, so the directory holds
either the whole new set or the old one. A target that is a symbolic link (or not a regular
file) is refused: a link is never followed onto another file, nor silently replaced.

```python
>>> import tempfile, pathlib
>>> out = pathlib.Path(tempfile.mkdtemp())
>>> [p.name for p in write_set({"a.py": "A = 1\\n", "b.py": "B = 2\\n"}, out)]
['a.py', 'b.py']

```
"""

from __future__ import annotations

import errno
import os
import stat
import threading
from pathlib import Path

__all__ = ["file_mode", "write_set"]

_UMASK_LOCK = threading.Lock()


def file_mode() -> int:
    """The mode a new regular file gets under the process umask: `0o666 & ~umask` (0o644 under
    the usual umask 022)."""
    try:  # Linux reports the umask without changing it
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return 0o666 & ~int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    with _UMASK_LOCK:  # elsewhere: set and restore it (the only portable way to read it)
        mask = os.umask(0o022)
        os.umask(mask)
    return 0o666 & ~mask


def _fsync_dir(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:  # not supported on this platform: the files themselves are synced
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _temp(directory: Path, name: str, data: bytes, mode: int) -> Path:
    """`data` in a new temporary file next to `name` (O_EXCL, never a followed link), synced."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    for attempt in range(100):
        path = directory / f".{name}.{os.getpid()}.{attempt}.tmp"
        try:
            fd = os.open(path, flags, mode)
        except FileExistsError:
            continue
        try:
            if hasattr(os, "fchmod"):  # the umask already applied; fchmod makes it exact
                os.fchmod(fd, mode)
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            os.fsync(fd)
        except BaseException:
            os.close(fd)
            path.unlink(missing_ok=True)
            raise
        os.close(fd)
        return path
    raise FileExistsError(f"no free temporary name for {name!r} in {str(directory)!r}")


def _existing(path: Path) -> int | None:
    """The mode of `path` if it is an existing regular file, `None` if it does not exist; a
    symbolic link or another kind of file is refused (`OSError`)."""
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return None
    if stat.S_ISLNK(st.st_mode):
        raise OSError(errno.ELOOP, "refusing to replace a symbolic link", str(path))
    if not stat.S_ISREG(st.st_mode):
        raise OSError(errno.EEXIST, "refusing to replace what is not a regular file", str(path))
    return stat.S_IMODE(st.st_mode)


def write_set(files: dict[str, str], directory: str | os.PathLike) -> list[Path]:
    """Write `files` (name -> text, UTF-8, `\\n` newlines) into `directory` as one set.

    All or nothing (see the module docstring); returns the written paths, sorted by name.
    Raises `OSError` (the directory left as it was) when the set cannot be written.
    """
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    mode = file_mode()
    names = sorted(files)
    for name in names:
        if not name or Path(name).name != name or name.startswith("."):
            raise ValueError(f"a generated file name must be a plain name, got {name!r}")
    temps: dict[str, Path] = {}
    backups: dict[str, Path] = {}
    done: list[str] = []
    try:
        for name in names:
            temps[name] = _temp(out, name, files[name].encode("utf-8"), mode)
        for name in names:
            old = _existing(out / name)
            if old is not None:  # a copy, to put back if a later rename fails
                backups[name] = _temp(out, name + ".old", (out / name).read_bytes(), old)
        for name in names:
            os.replace(temps[name], out / name)
            del temps[name]
            done.append(name)
    except BaseException:
        for name in reversed(done):  # put the old set back
            try:
                if name in backups:
                    os.replace(backups.pop(name), out / name)
                else:
                    (out / name).unlink(missing_ok=True)
            except OSError:
                pass
        raise
    finally:
        for path in [*temps.values(), *backups.values()]:
            try:
                path.unlink(missing_ok=True)
            except OSError:
                pass
        _fsync_dir(out)
    return [out / name for name in names]
