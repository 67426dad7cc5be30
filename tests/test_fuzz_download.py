"""Download hardening against a local HTTP server on 127.0.0.1 that fails in every way a
network does: each failure is a DownloadError saying what happened, the next mirror is
tried, the final DatasetNotFoundError lists each mirror with its reason, and nothing is
left in the folder (neither the final name nor a temporary file)."""
import hashlib
import os
import socket
import stat
import struct
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from nn.datasets import DatasetNotFoundError, DownloadError, IDXDataset, IDXFile, download
from nn.datasets.mnist import locate

PAYLOAD = bytes(range(256)) * 64          # 16 KiB
DIGEST = hashlib.sha256(PAYLOAD).hexdigest()
STALL_SECONDS, CLIENT_TIMEOUT = 1.0, 0.25

# Fault name -> (what the handler does, text the DownloadError must hold).
FAULTS = {
    "reset": "ConnectionResetError",              # RST mid-body
    "short": "connection closed after",          # fewer bytes than Content-Length, clean close
    "chunked-cut": "connection closed mid-body",  # chunked body cut mid-stream
    "stall": "timed out",                         # no response within the timeout
    "status-500": "HTTP status 500",
    "status-404": "HTTP status 404",
    "garbage": "BadStatusLine",                   # not HTTP at all
    "hang-up": "RemoteDisconnected",              # closed before any response
}


class FaultyMirror(BaseHTTPRequestHandler):
    """``/<fault>/<file>`` fails in the named way; ``/ok/<file>`` serves PAYLOAD."""

    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def do_GET(self):
        fault = self.path.strip("/").split("/")[0]
        half = PAYLOAD[:len(PAYLOAD) // 2]
        if fault == "ok":
            self._headers(200, len(PAYLOAD))
            self.wfile.write(PAYLOAD)
        elif fault == "reset":
            self._headers(200, len(PAYLOAD))
            self.wfile.write(half)
            self.wfile.flush()
            # SO_LINGER 0: close() sends a TCP RST instead of a clean FIN (closed here,
            # before socketserver's own shutdown(SHUT_WR) would send a FIN first).
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                       struct.pack("ii", 1, 0))
            self.connection.close()
            self.close_connection = True
        elif fault == "short":
            self._headers(200, len(PAYLOAD))
            self.wfile.write(half)
            self.close_connection = True
        elif fault == "chunked-cut":
            self.send_response(200)
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            self.wfile.write(b"%x\r\n%s\r\n" % (len(half), half))
            self.wfile.write(b"%x\r\n" % len(half) + half[:100])  # a chunk cut short
            self.close_connection = True
        elif fault == "stall":
            time.sleep(STALL_SECONDS)
            self.close_connection = True
        elif fault.startswith("status-"):
            self._headers(int(fault.split("-")[1]), 0)
        elif fault == "garbage":
            self.wfile.write(b"SURPRISE this is not HTTP\r\n\r\n")
            self.close_connection = True
        else:  # hang-up
            self.close_connection = True

    def _headers(self, status, length):
        self.send_response(status)
        self.send_header("Content-Length", str(length))
        self.end_headers()


@pytest.fixture(scope="module")
def mirror():
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), FaultyMirror)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05},
                              daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/"
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)


def closed_port():
    """A port on 127.0.0.1 with nobody listening: connection refused."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.mark.parametrize("fault", sorted(FAULTS))
def test_each_transport_fault_is_a_download_error_and_leaves_nothing(mirror, tmp_path, fault):
    target = tmp_path / "cache" / "file.gz"
    with pytest.raises(DownloadError, match=FAULTS[fault]) as caught:
        download(f"{mirror}{fault}/file.gz", target, DIGEST, timeout=CLIENT_TIMEOUT)
    assert caught.value.url.endswith(f"{fault}/file.gz")
    assert os.listdir(target.parent) == []


def test_refused_connection_is_a_download_error(tmp_path):
    target = tmp_path / "file.gz"
    with pytest.raises(DownloadError, match="refused"):
        download(f"http://127.0.0.1:{closed_port()}/file.gz", target, DIGEST, timeout=5)
    assert os.listdir(tmp_path) == []


def test_good_download_is_created_with_the_umask(mirror, tmp_path):
    previous = os.umask(0o022)
    try:
        path = download(f"{mirror}ok/file.gz", tmp_path / "file.gz", DIGEST, timeout=5)
    finally:
        os.umask(previous)
    assert path.read_bytes() == PAYLOAD
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o644
    assert os.listdir(tmp_path) == ["file.gz"]


def spec_with_mirrors(*mirrors):
    entry = IDXFile("file.gz", DIGEST, (len(PAYLOAD),))
    return IDXDataset("faulty", {"train_labels": entry}, mirrors=mirrors), entry


def test_every_fault_moves_on_to_the_next_mirror(mirror, tmp_path):
    faulty = [f"{mirror}{fault}/" for fault in sorted(FAULTS)]
    spec, entry = spec_with_mirrors(*faulty, f"{mirror}ok/")
    path = locate(spec, entry, root=tmp_path, timeout=CLIENT_TIMEOUT)
    assert path.read_bytes() == PAYLOAD
    assert os.listdir(tmp_path) == ["file.gz"]


def test_when_every_mirror_fails_the_error_lists_each_with_its_reason(mirror, tmp_path):
    faulty = [f"{mirror}{fault}/" for fault in sorted(FAULTS)]
    refused = f"http://127.0.0.1:{closed_port()}/"
    spec, entry = spec_with_mirrors(*faulty, refused)
    with pytest.raises(DatasetNotFoundError) as caught:
        locate(spec, entry, root=tmp_path, timeout=CLIENT_TIMEOUT)
    lines = str(caught.value).splitlines()
    for fault, reason in FAULTS.items():
        assert any(f"{mirror}{fault}/file.gz" in line and reason in line for line in lines), \
            (fault, lines)
    assert any(refused in line and "refused" in line for line in lines)
    assert os.listdir(tmp_path) == []


def test_next_download_removes_the_temporary_file_of_a_killed_one(mirror, tmp_path):
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    stale = tmp_path / f".file.gz.{gone.pid}.0badc0de.part"
    stale.write_bytes(PAYLOAD[:100])
    download(f"{mirror}ok/file.gz", tmp_path / "file.gz", DIGEST, timeout=5)
    assert os.listdir(tmp_path) == ["file.gz"]
