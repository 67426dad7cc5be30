"""Create a file atomically: write a temporary file beside it, fsync, rename over it.

Used by ``nn.save`` and the dataset downloads. Readers of the final path see either
the previous file or the complete new one, never a partial write, even if the writer
is killed (``kill -9``) or the machine loses power after the rename returns.

- The file is created with mode 0o666 filtered by the user's umask, as ``open(path,
  "w")`` would (0644 under the usual umask 022), not 0600 as ``tempfile.mkstemp`` makes.
- The temporary file is named ``.<name>.<pid>.<token><suffix>`` in the target's folder.
  A writer killed before its rename leaves it behind; the next write of the same target
  removes every such file whose process is gone (POSIX), so they never pile up.
- Writing into a folder that does not exist raises FileNotFoundError naming the folder.
"""
import contextlib
import os
import secrets

__all__ = ["atomic_create", "temporary_files_of", "remove_stale_temporaries"]


def _parts(path):
    path = os.path.abspath(os.fspath(path))
    return os.path.dirname(path), os.path.basename(path)


def temporary_files_of(path, suffix=".tmp"):
    """``(file name, pid)`` of every temporary file an ``atomic_create`` of ``path`` made
    and did not rename or remove (an interrupted write), in ``path``'s folder."""
    directory, name = _parts(path)
    prefix = f".{name}."
    found = []
    try:
        entries = os.listdir(directory)
    except OSError:
        return found
    for entry in entries:
        if not (entry.startswith(prefix) and entry.endswith(suffix)):
            continue
        middle = entry[len(prefix):len(entry) - len(suffix)].split(".")
        if len(middle) == 2 and middle[0].isdigit() and middle[1].isalnum():
            found.append((entry, int(middle[0])))
    return found


def _process_alive(pid):
    if os.name != "posix":
        return True  # no cheap, safe liveness check: leave the file alone
    if pid == os.getpid():
        return True  # maybe another thread of this process, writing now
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # exists, owned by someone else
    return True


def remove_stale_temporaries(path, suffix=".tmp"):
    """Delete the temporary files of interrupted writes of ``path`` whose writer process
    has exited; return their names. Files of live writers are left alone."""
    directory, _ = _parts(path)
    removed = []
    for entry, pid in temporary_files_of(path, suffix):
        if not _process_alive(pid):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(os.path.join(directory, entry))
                removed.append(entry)
    return removed


@contextlib.contextmanager
def atomic_create(path, *, suffix=".tmp", owner="write"):
    """Context manager giving a binary file object whose content replaces ``path`` when
    the block exits normally; on any exception (an interrupt included) the temporary
    file is deleted, ``path`` is untouched, and the exception propagates.

    Args:
        path: the final file.
        suffix: ending of the temporary file's name (``.part`` for downloads).
        owner: the caller's name for error messages, e.g. ``"nn.save"``.

    Raises:
        FileNotFoundError: ``path``'s folder does not exist (the message names it).
        NotADirectoryError: ``path``'s folder is a file.
    """
    directory, name = _parts(path)
    if not os.path.isdir(directory):
        error = NotADirectoryError if os.path.exists(directory) else FileNotFoundError
        raise error(f"{owner}: cannot write '{name}': the folder '{directory}' "
                    f"{'is not a folder' if error is NotADirectoryError else 'does not exist'}")
    remove_stale_temporaries(path, suffix)
    temporary = os.path.join(directory, f".{name}.{os.getpid()}.{secrets.token_hex(4)}{suffix}")
    # O_EXCL: never follow or reuse a file someone else put there. Mode 0o666 is filtered
    # by the umask exactly as open() does.
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0) \
        | getattr(os, "O_BINARY", 0)
    descriptor = os.open(temporary, flags, 0o666)
    try:
        with os.fdopen(descriptor, "wb") as file:
            yield file
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise
    _sync_directory(directory)


def _sync_directory(directory):
    """Make the rename itself durable (POSIX); harmless to skip where unsupported."""
    try:
        descriptor = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(descriptor)
    except OSError:
        pass
    finally:
        os.close(descriptor)
