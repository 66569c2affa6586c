"""The browser tests' live server must not leak open files when a browser drops a connection."""

import gc
import socket
import struct
import time
import warnings

from tests.browser import LiveServer


def _request_then_reset(origin_port: int, path: str) -> None:
    sock = socket.create_connection(("127.0.0.1", origin_port))
    sock.sendall(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode())
    sock.recv(64)  # the server has started answering
    # Close with a reset, as a browser does when it abandons a request.
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()


def test_a_dropped_connection_leaves_no_file_open(live_server: LiveServer) -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ResourceWarning)
        for _ in range(30):
            _request_then_reset(live_server.server.server_port, "/static/icons/logo.svg")
        time.sleep(0.3)  # let the server threads finish with the dropped connections
        gc.collect()
    leaks = [w for w in caught if issubclass(w.category, ResourceWarning)]
    assert not leaks, [str(w.message) for w in leaks]
