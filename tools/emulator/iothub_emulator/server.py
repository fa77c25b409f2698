"""The HTTPS server: TLS on every accepted connection, HTTP/1.1 keep-alive,
one thread per connection. Requests are handed to the app (see app.py).
A second, plain-HTTP server (no ssl_context) serves only the managed identity
routes, as App Service's IDENTITY_ENDPOINT (http://127.0.0.1:PORT) does.
"""

import socket
import socketserver
import ssl
import sys
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from .errors import ServiceError
from .routing import Request, error_response

HANDSHAKE_TIMEOUT = 10
IDLE_TIMEOUT = 120


class BadRequest(Exception):
    pass


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "iothub-emulator"
    timeout = IDLE_TIMEOUT

    def setup(self):
        super().setup()
        self.connection_id = self.server.state.new_connection()

    def handle_expect_100(self):
        """No 100 Continue for a request an early answer is for: that answer
        comes instead, and the client need not send its body."""
        self._early = self._early_answer()
        if self._early is not None:
            return True
        return super().handle_expect_100()

    def _early_answer(self):
        early = getattr(self.server.app, "early", None)
        if early is None:
            return None
        return early(Request(self.command, self.path, self._header_dict(), b"", self.connection_id))

    def do_request(self):
        started = time.monotonic()
        response, self._early = getattr(self, "_early", None), None
        if response is None:
            response = self._early_answer()
        if response is not None:
            self._send(response)
            return
        try:
            body = self._read_body()
        except BadRequest as err:
            self.close_connection = True
            response = error_response(ServiceError("ArgumentInvalid", str(err), shape=4))
        else:
            request = Request(self.command, self.path, self._header_dict(), body,
                              self.connection_id)
            response = self.server.app(request)
        self._send(response)
        if self.server.verbose:
            note = " ({})".format(response.log_note) if response.log_note else ""
            self.log_message("conn=%d %s %s -> %d%s %.1f ms", self.connection_id,
                             self.command, self.path, response.status, note,
                             (time.monotonic() - started) * 1000)

    do_GET = do_PUT = do_POST = do_DELETE = do_PATCH = do_request

    def _header_dict(self):
        headers = {}
        for name, value in self.headers.items():
            name = name.lower()
            headers[name] = headers[name] + ", " + value if name in headers else value
        return headers

    def _read_body(self):
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            return self._read_chunked()
        length = self.headers.get("Content-Length", "0").strip()
        if not length.isdigit():
            raise BadRequest("Invalid Content-Length")
        return self.rfile.read(int(length))

    def _read_chunked(self):
        chunks = []
        while True:
            line = self.rfile.readline(65537).split(b";")[0].strip()
            try:
                size = int(line, 16)
            except ValueError:
                raise BadRequest("Invalid chunk size") from None
            if size == 0:
                while self.rfile.readline(65537).strip():  # trailers
                    pass
                return b"".join(chunks)
            chunks.append(self.rfile.read(size))
            self.rfile.readline(3)  # the CRLF after the chunk

    def _send(self, response):
        try:
            if response.delivery:
                response.delivery(self, response)
            else:
                self.send_head(response, None if response.status == 204 else len(response.body))
                self.wfile.write(response.body)
        except OSError:  # the client hung up (a fault's stall, an oversize body...)
            self.close_connection = True

    def send_head(self, response, content_length=None):
        """The status line and headers, x-ms-request-id and Content-Length
        (unless the response has its own) included."""
        self.send_response(response.status)
        names = {name.lower() for name in response.headers}
        for name, value in response.headers.items():
            self.send_header(name, value)
        if "x-ms-request-id" not in names:
            self.send_header("x-ms-request-id", str(uuid.uuid4()))
        if content_length is not None and "content-length" not in names:
            self.send_header("Content-Length", str(content_length))
        elif "content-length" in names:
            self.close_connection = True  # it may not be the truth
        self.end_headers()

    def log_request(self, code="-", size="-"):
        """Replaced by the single line do_request writes."""

    def log_message(self, format, *args):
        if self.server.verbose:
            sys.stderr.write("{} {}\n".format(self.log_date_time_string(), format % args))


class EmulatorServer(ThreadingHTTPServer):
    """A threading HTTPS server; the TLS handshake runs in the connection's thread.
    With ssl_context None it speaks plain HTTP (the managed identity listener)."""

    daemon_threads = True
    # socketserver's default backlog of 5 drops SYNs when a client opens many
    # connections at once, and each dropped one costs a 1 s retransmission.
    request_queue_size = 128

    def __init__(self, address, family, ssl_context, state, app, verbose=False):
        self.address_family = family
        self.ssl_context = ssl_context
        self.state = state
        self.app = app
        self.verbose = verbose
        super().__init__(address, Handler)

    def server_bind(self):
        # HTTPServer.server_bind would do a reverse DNS lookup of the address.
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = self.server_address[:2]

    def finish_request(self, request, client_address):
        # Headers and body go out in two writes; without TCP_NODELAY the body
        # waits for the client's delayed ACK (about 40 ms a response).
        request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if self.ssl_context is None:  # the plain-HTTP identity listener
            super().finish_request(request, client_address)
            return
        request.settimeout(HANDSHAKE_TIMEOUT)
        try:
            tls = self.ssl_context.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError) as err:
            if self.verbose:
                sys.stderr.write("TLS handshake failed: {}\n".format(err))
            return
        try:
            super().finish_request(tls, client_address)
        finally:
            tls.close()
