"""Verified downloads into the user cache: temp file, SHA-256 check, then an atomic rename.

Nothing half-written or unverified ever sits under the final name: the bytes go to a
hidden ``.<name>.<pid>.<token>.part`` file in the same folder (``nn.atomic_file``), which
is renamed over the final path (``os.replace``, atomic on one file system) only after
its SHA-256 matches, and deleted on any failure, an interrupt included. Every transport
failure is one exception type, ``DownloadError``.
"""
import hashlib
import http.client
import os
import socket
import urllib.error
import urllib.request
from pathlib import Path

from ..atomic_file import atomic_create

CHUNK_BYTES = 1 << 20
USER_AGENT = "numpy-autograd-datasets"


class ChecksumError(ValueError):
    """Downloaded bytes whose SHA-256 is not the expected one."""


class DownloadError(OSError):
    """A download that failed in transport; ``url`` and ``reason`` say which and why."""

    def __init__(self, url, reason):
        super().__init__(f"download: {url}: {reason}")
        self.url, self.reason = url, reason

    def __reduce__(self):
        return type(self), (self.url, self.reason)


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

    The file is created with the user's umask, as ``open`` would, and only once verified;
    a temporary file an interrupted download left (``kill -9``) is removed by the next
    download of the same path.

    Raises:
        DownloadError (an OSError): any transport failure: the server unreachable, a
            refused or reset connection, a timeout, an HTTP error status, a malformed
            response, or a body cut short (fewer bytes than its Content-Length, or a
            chunked body cut mid-stream). Nothing is written under ``path`` and no
            temporary file is left.
        ChecksumError: the bytes have another SHA-256; nothing is written under ``path``.
        FileNotFoundError and other OSErrors: ``path``'s folder cannot be created or
            written.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_create(path, suffix=".part", owner="download") as out:
        digest = _fetch(url, out, timeout)
        if digest != sha256.lower():
            raise ChecksumError(f"download: SHA-256 mismatch for {url}: expected {sha256.lower()}, "
                                f"got {digest}; nothing was saved to {path}")
    return path


def _fetch(url, out, timeout):
    """Write the body of ``url`` to ``out``; return its hex SHA-256."""
    digest = hashlib.sha256()
    for chunk in _body_chunks(url, timeout):
        digest.update(chunk)
        out.write(chunk)  # a disk error here stays an OSError: no other mirror would help
    return digest.hexdigest()


def _body_chunks(url, timeout):
    """The body of ``url`` in chunks; every transport failure becomes a DownloadError
    saying what happened."""
    received = 0
    request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            declared = response.headers.get("Content-Length")
            while chunk := response.read(CHUNK_BYTES):
                received += len(chunk)
                yield chunk
    except urllib.error.HTTPError as err:
        raise DownloadError(url, f"HTTP status {err.code} {err.reason}") from err
    except urllib.error.URLError as err:
        raise DownloadError(url, _describe(err.reason)) from err
    except http.client.IncompleteRead as err:
        raise DownloadError(url, f"connection closed mid-body after "
                                 f"{received + len(err.partial)} bytes") from err
    except (http.client.HTTPException, OSError) as err:
        raise DownloadError(url, _describe(err)) from err
    # http.client stops quietly when a body with a Content-Length is cut short.
    if declared is not None and declared.isdigit() and received != int(declared):
        raise DownloadError(url, f"connection closed after {received} of the {declared} bytes "
                                 f"the server announced")


def _describe(reason):
    if isinstance(reason, (TimeoutError, socket.timeout)):
        return "timed out"
    if isinstance(reason, str):
        return reason
    text = str(reason)
    return f"{type(reason).__name__}: {text}" if text else type(reason).__name__
