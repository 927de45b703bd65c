"""HTTP plumbing shared by the API server and the registry (stdlib http.server, HTTP/1.1)."""
import http.server
import signal
import socket
import sys


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Go's net/http sets TCP_NODELAY on every connection. Without it, a reply written as headers then body
    # waits for the client's delayed ACK on a reused keep-alive connection (about 40 ms a request).
    disable_nagle_algorithm = True

    status = 0

    def send_response(self, code, message=None):
        # Like Go's net/http: a Date header but no Server header.
        self.status = code
        self.send_response_only(code, message)
        self.send_header("Date", self.date_time_string())

    def read_body(self):
        """The request body, from Content-Length or chunked transfer encoding (httpx streams uploads)."""
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            return b"".join(self.iter_chunked_body())
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def iter_body(self):
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            yield from self.iter_chunked_body()
            return
        remaining = int(self.headers.get("Content-Length") or 0)
        while remaining > 0:
            chunk = self.rfile.read(min(remaining, 1 << 20))
            if not chunk:
                break
            remaining -= len(chunk)
            yield chunk

    def iter_chunked_body(self):
        while True:
            size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
            if size == 0:
                while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                    pass
                return
            yield self.rfile.read(size)
            self.rfile.readline()

    def send_bytes(self, status, body=b"", content_type=None, headers=None):
        self.send_response(status)
        if content_type:
            self.send_header("Content-Type", content_type)
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD" and body:
            self.wfile.write(body)

    def start_chunked(self, status, content_type, headers=None):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()

    def write_chunk(self, data):
        """One flushed chunk, so each NDJSON line or SSE event reaches the client at once."""
        if data:
            self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
            self.wfile.flush()

    def end_chunked(self):
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()

    def log_message(self, format, *args):
        pass


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, address, handler):
        host = address[0]
        if ":" in host:
            self.address_family = socket.AF_INET6
        super().__init__(address, handler)

    def handle_error(self, request, client_address):
        # Clients that hang up mid-response (a pull reading only headers, a cancelled stream) are routine.
        if not isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):
            super().handle_error(request, client_address)

    def serve_until_stopped(self):
        """Serves until SIGTERM or SIGINT, as upstream's server does: as a container's PID 1 a process gets no
        default SIGTERM action, and `docker stop` would otherwise wait its whole timeout before killing it."""
        def stop(unused_signum, unused_frame):
            raise KeyboardInterrupt
        signal.signal(signal.SIGTERM, stop)
        try:
            self.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            self.server_close()


def split_hostport(text, default_port):
    """host, port from `host:port`, `[v6]:port`, `host` (port as an int)."""
    if text.startswith("["):
        host, unused_sep, rest = text[1:].partition("]")
        port = rest[1:] if rest.startswith(":") else ""
    elif text.count(":") == 1:
        host, port = text.split(":")
    else:
        host, port = text, ""
    return host, int(port) if port else default_port
