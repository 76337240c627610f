"""Writing an output directory so that an interrupted write never looks complete, and never
replacing a directory that is not one of our own outputs.

``--out`` may point anywhere a planner types. Only a directory that is verifiably a run (or a
comparison) written by this model is ever replaced: its ``manifest.json`` parses as one, and it
holds nothing such a directory does not hold. Anything else is refused with
:class:`OutDirError` before any work is done, and checked again right before the swap.
"""

from __future__ import annotations

import ctypes
import datetime as dt
import errno
import fcntl
import json
import os
import shutil
import stat
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

__all__ = ["ADDED_LATER", "KINDS", "OutDirError", "WriteError", "atomic_directory", "check_replaceable", "kept_name",
           "output_kind", "previous_place", "writing"]

#: The files a brief adds to a run or comparison directory (``python -m model brief``).
_BRIEF_FILES = frozenset(f"brief.{lang}.{fmt}" for lang in ("zh", "en") for fmt in ("html", "pdf"))
#: Files added to a finished run directory afterwards (briefs, ``python -m model score``): they
#: are made from the run's checksummed files and carry no checksum of their own.
ADDED_LATER = _BRIEF_FILES | {"score.csv"}

#: Kind of output -> the files (not folders) such a directory may hold.
KINDS: dict[str, frozenset[str]] = {
    "run": frozenset({
        "summary.csv", "trajectories.csv", "joint.csv", "departments.csv", "districts.csv",
        "drivers.csv", "calibration.csv", "outside_view.csv", "replications.npz", "results.xlsx",
        "manifest.json",
    }) | ADDED_LATER,
    "comparison": frozenset({  # a sweep's charts too (model.report.sweep_chart)
        "comparison.csv", "comparison.xlsx", "sweep.csv", "manifest.json",
        *(f"sweep.{lang}.{fmt}" for lang in ("zh", "en") for fmt in ("png", "svg")),
    }) | _BRIEF_FILES,
    "calibration": frozenset({"calibration.csv", "manifest.json"}),
    "analysis": frozenset({  # python -m model levers / goal / sensitivity / discover
        "levers.csv", "goal.json", "goal.csv", "sensitivity.csv", "discover.csv", "manifest.json",
        *(f"{chart}.{lang}.{fmt}" for chart in ("tornado", "sensitivity", "discover")
          for lang in ("zh", "en") for fmt in ("png", "svg")),
    }),
}
#: Each kind as a message names it.
_WHAT = {"run": "a run", "comparison": "a comparison", "calibration": "a calibration report",
         "analysis": "an analysis"}

#: Keys every run manifest holds (older runs have no ``kind``).
_RUN_KEYS = ("scenario", "seed", "replications", "targets")


class OutDirError(ValueError):
    """An output path that must not be written or replaced (the message says what to do)."""


class WriteError(OSError):
    """A file of an output directory could not be written (disk full, no permission); the
    message names the file and the directory, and says that nothing was saved."""

    def __str__(self) -> str:
        return str(self.strerror)


@contextmanager
def writing(name: str, shown: str | Path) -> Iterator[None]:
    """Turn an :class:`OSError` while writing file ``name`` of the output ``shown`` into a
    :class:`WriteError` that says which file: ``cannot write results.xlsx in runs/plan: No
    space left on device; nothing was saved``."""
    try:
        yield
    except WriteError:
        raise
    except OSError as exc:
        raise WriteError(exc.errno, f"cannot write {name} in {shown}: {exc.strerror or exc}; nothing was saved") \
            from exc


def _manifest_kind(path: Path) -> str | None:
    """``"run"``, ``"comparison"``, ``"calibration"`` or ``"analysis"`` if ``path/manifest.json`` is one of
    ours, else None."""
    manifest_file = path / "manifest.json"
    if manifest_file.is_symlink() or not manifest_file.is_file():
        return None
    try:
        if manifest_file.stat().st_size > 50_000_000:  # ours are a few hundred kB at most
            return None
        manifest = json.loads(manifest_file.read_text("utf-8"))
    except (OSError, UnicodeDecodeError, ValueError, RecursionError):
        return None
    if not isinstance(manifest, dict):
        return None
    kind = manifest.get("kind", "run")
    if kind in ("comparison", "calibration", "analysis"):
        return kind if isinstance(manifest.get("scenarios"), list) else None
    if kind == "run" and all(k in manifest for k in _RUN_KEYS) and isinstance(manifest["scenario"], dict):
        return "run"
    return None


def output_kind(path: str | Path) -> str | None:
    """``"run"``, ``"comparison"``, ``"calibration"`` or ``"analysis"`` if ``path`` is a directory
    written by this model, else None."""
    path = Path(path)
    return _manifest_kind(path) if path.is_dir() else None


def kept_name(out: Path) -> Path:
    """Where a rerun into ``out`` moves the output there: ``<out>.<its date>``
    (``runs/plan.2017-07-11T0930``, local time of the manifest's ``finished``, ``created`` or
    ``started``, else of the folder), ``-2``, ``-3`` ... if taken."""
    try:
        manifest = json.loads((out / "manifest.json").read_text("utf-8"))
        stamp = next(manifest[k] for k in ("finished", "created", "started") if manifest.get(k))
        when = dt.datetime.fromisoformat(str(stamp)).astimezone()
    except (OSError, ValueError, KeyError, TypeError, StopIteration, AttributeError):
        when = dt.datetime.fromtimestamp(out.stat().st_mtime)
    base = out.with_name(f"{out.name}.{when:%Y-%m-%dT%H%M}")
    kept, k = base, 1
    while kept.exists() or kept.is_symlink():
        k += 1
        kept = base.with_name(f"{base.name}-{k}")
    return kept


def previous_place(out: str | Path, kind: str) -> Path | None:
    """Where a save of ``kind`` into ``out`` moves what is there (:func:`kept_name`), or None
    when nothing of that kind is there to keep."""
    out = Path(out)
    return kept_name(out) if output_kind(out) == kind else None


def _is_leftover(name: str, allowed: frozenset[str]) -> bool:
    """A temporary file our own writers leave when killed (``.results.xlsx.partial``)."""
    return name.startswith(".") and name.endswith(".partial") and name[1:-len(".partial")] in allowed


def _foreign_entry(path: Path, kind: str) -> str | None:
    """The first entry of ``path`` that a directory of ``kind`` does not hold, or None."""
    allowed = KINDS[kind]
    for entry in sorted(path.iterdir()):
        mode = entry.lstat().st_mode
        if kind == "comparison" and entry.name == "runs" and stat.S_ISDIR(mode):
            for run in sorted(entry.iterdir()):
                if run.is_symlink() or not run.is_dir() or _manifest_kind(run) != "run":
                    return str(run.relative_to(path))
                inner = _foreign_entry(run, "run")
                if inner is not None:
                    return f"{run.relative_to(path)}/{inner}"
            continue
        if not stat.S_ISREG(mode) or not (entry.name in allowed or _is_leftover(entry.name, allowed)):
            return entry.name
    return None


def check_replaceable(out_dir: str | Path, kind: str) -> Path:
    """Refuse an output path that exists and is not a directory of ``kind`` we may replace.

    Parameters
    ----------
    out_dir : str or Path
        Where the output is to go.
    kind : {"run", "comparison", "calibration"}
        What will be written there.

    Returns
    -------
    Path
        ``out_dir`` as a Path. It is absent, an empty directory, or a complete ``kind``
        directory written by this model that holds nothing else.

    Raises
    ------
    OutDirError
        A file (or something else that is not a directory) is in the way, the destination cannot
        be written, the directory is not one of ours of this kind, or it holds a file or folder
        such a directory never holds.
    """
    out = Path(out_dir)
    for parent in [out, *out.parents]:
        if (parent.exists() or parent.is_symlink()) and not parent.is_dir():
            raise OutDirError(f"--out: {parent} exists and is not a directory; choose another path")
    if out.is_symlink():
        raise OutDirError(f"--out: {out} is a symbolic link; give the real directory or another path")
    existing = next(p for p in [out, *out.parents] if p.exists())
    if not os.access(existing, os.W_OK | os.X_OK):
        raise OutDirError(f"--out: cannot write in {existing}; choose a directory you can write to")
    if not out.exists() or not any(out.iterdir()):
        return out
    found = _manifest_kind(out)
    what = _WHAT[kind]
    if found != kind:
        was = _WHAT.get(found or "", "not written by this model")
        raise OutDirError(f"--out: {out} is a non-empty directory that is not {what} ({was}); "
                          "choose another path so nothing is overwritten")
    foreign = _foreign_entry(out, kind)
    if foreign is not None:
        raise OutDirError(f"--out: {out} looks like {what} but also holds {foreign}, which {what} never "
                          "holds; move that away or choose another path so nothing is lost")
    return out


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


_AT_FDCWD = -100
_RENAME_EXCHANGE = 2


def exchange(a: Path, b: Path) -> bool:
    """Swap two existing paths in one atomic step (Linux ``renameat2(RENAME_EXCHANGE)``).

    Returns False where the system or the file system cannot (then nothing has changed).
    """
    try:
        renameat2 = ctypes.CDLL(None, use_errno=True).renameat2
    except (OSError, AttributeError):
        return False
    renameat2.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    if renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.ENOSYS, errno.EINVAL, errno.EOPNOTSUPP, errno.ENOTSUP):
        return False
    raise OSError(code, os.strerror(code), str(b))


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # somebody else's live process
        return True
    return True


def _tidy(out: Path) -> None:
    """Undo what a killed writer left next to ``out``.

    A ``.<name>.old-<pid>`` left by a crash between the two renames is put back if ``out`` is
    missing (so a run is never lost), and removed otherwise; ``.<name>.partial-<pid>-*``
    folders of processes that are no longer alive are removed.
    """
    for leftover in sorted(out.parent.glob(f".{out.name}.old-*")):
        pid = leftover.name.rsplit("-", 1)[-1]
        if pid.isdigit() and _alive(int(pid)) and int(pid) != os.getpid():
            continue
        if not out.exists() and not out.is_symlink():
            os.replace(leftover, out)
        else:
            shutil.rmtree(leftover, ignore_errors=True)
    for leftover in out.parent.glob(f".{out.name}.partial-*"):
        pid = leftover.name[len(f".{out.name}.partial-"):].split("-", 1)[0]
        if pid.isdigit() and not _alive(int(pid)):
            shutil.rmtree(leftover, ignore_errors=True)


#: How long a save waits for another save in the same folder to finish [s].
LOCK_WAIT = 120.0


@contextmanager
def _locked(out: Path) -> Iterator[None]:
    """Hold an exclusive lock on the folder that holds ``out`` (no lock file is left behind).

    Saves into one folder take their turn: a second writer of ``out`` waits until the first
    has renamed its directory into place (a save takes about a second), then checks again what
    is there. After LOCK_WAIT seconds it gives up with :class:`OutDirError`.
    """
    fd = os.open(out.parent, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | getattr(os, "O_CLOEXEC", 0))
    try:
        deadline = time.monotonic() + LOCK_WAIT
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except OSError as exc:
                if exc.errno not in (errno.EWOULDBLOCK, errno.EACCES):
                    raise
                if time.monotonic() > deadline:
                    raise OutDirError(f"--out: another command has been writing in {out.parent} for over "
                                      f"{LOCK_WAIT:.0f} s; wait for it to finish or choose another path") from None
                time.sleep(0.05)
        yield
    finally:
        os.close(fd)  # releases the lock


@contextmanager
def atomic_directory(out_dir: str | Path, kind: str, keep_previous: Path | None = None) -> Iterator[Path]:
    """Yield a temporary sibling of ``out_dir`` to write into; on success it replaces ``out_dir``.

    ``out_dir`` is checked with :func:`check_replaceable` first and again right before the
    swap, so only one of our own ``kind`` directories is ever replaced. While writing, a lock
    next to ``out_dir`` refuses a second writer. The temporary directory
    (``.<name>.partial-<pid>-*``) gets the permissions of an ordinary folder and is renamed into
    place only when the ``with`` block finishes; an existing ``out_dir`` is swapped out first and
    removed after, or, with ``keep_previous`` (a path that does not exist), renamed there and
    kept. On any error (or interruption) the temporary directory is removed and ``out_dir`` is
    left as it was; what a killed writer left behind is tidied the next time. Callers write
    their manifest last.
    """
    out = check_replaceable(out_dir, kind)
    out.parent.mkdir(parents=True, exist_ok=True)
    with _locked(out):
        _tidy(out)
        out = check_replaceable(out, kind)
        tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.partial-{os.getpid()}-", dir=out.parent))
        try:
            os.chmod(tmp, 0o777 & ~_umask())  # mkdtemp makes it private; outputs are shared like any folder
            yield tmp
            check_replaceable(out, kind)  # it may have changed while we wrote
            if keep_previous is not None and out.exists():
                if keep_previous.exists() or keep_previous.is_symlink():
                    raise OutDirError(f"--out: {keep_previous} exists, so the previous {kind} cannot be moved there")
                os.rename(out, keep_previous)  # kept, not deleted (a crash now loses nothing)
            if not out.exists():
                os.replace(tmp, out)
            elif exchange(tmp, out):  # one atomic step: there is always a complete run at out
                shutil.rmtree(tmp, ignore_errors=True)  # tmp now holds the old run
            else:  # two renames; a crash between them is undone by the next save (_tidy)
                old = out.with_name(f".{out.name}.old-{os.getpid()}")
                os.replace(out, old)
                os.replace(tmp, out)
                shutil.rmtree(old, ignore_errors=True)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
