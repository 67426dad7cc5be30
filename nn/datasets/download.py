"""Verified downloads into the user cache: temp file, SHA-256 check, then an atomic rename.

Nothing half-written or unverified ever sits under the final name: the bytes go to a
hidden ``.<name>.*.part`` file in the same folder, which is renamed over the final path
(``os.replace``, atomic on one file system) only after its SHA-256 matches, and deleted
on any failure, an interrupt included.
"""
import contextlib
import hashlib
import os
import tempfile
import urllib.request
from pathlib import Path

CHUNK_BYTES = 1 << 20
USER_AGENT = "numpy-autograd-datasets"


class ChecksumError(ValueError):
    """Downloaded bytes whose SHA-256 is not the expected one."""


def cache_dir():
    """The folder for downloaded datasets: ``$XDG_CACHE_HOME/numpy-autograd``, by default
    ``~/.cache/numpy-autograd``."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "numpy-autograd"


def sha256_of(path):
    """Hex SHA-256 digest of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(CHUNK_BYTES), b""):
            digest.update(chunk)
    return digest.hexdigest()


def download(url, path, sha256, timeout=30.0):
    """Download ``url`` to ``path`` if its SHA-256 is ``sha256``; return the path.

    Raises:
        ChecksumError: the bytes have another SHA-256; nothing is written under ``path``.
        OSError (``urllib.error.URLError`` and friends): the download failed; nothing is
            written under ``path``.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor, partial = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    try:
        digest = hashlib.sha256()
        request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})
        with (os.fdopen(descriptor, "wb") as out,
              urllib.request.urlopen(request, timeout=timeout) as response):
            for chunk in iter(lambda: response.read(CHUNK_BYTES), b""):
                digest.update(chunk)
                out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
        if digest.hexdigest() != sha256.lower():
            raise ChecksumError(f"download: SHA-256 mismatch for {url}: expected {sha256.lower()}, "
                                f"got {digest.hexdigest()}; nothing was saved to {path}")
        os.replace(partial, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(partial)
        raise
    return path
