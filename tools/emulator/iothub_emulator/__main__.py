"""Command line: start the emulator and announce it through a ready file.

    python3 tools/emulator/run.py --port 0 --ready-file PATH [--cert-dir DIR]
                                  [--host 127.0.0.1] [--verbose]
"""

import argparse
import json
import os
import signal
import socket
import sys
import tempfile
import threading

from . import certs, identity
from .app import build_app, plain_http_app
from .server import EmulatorServer
from .state import EmulatorState

DEFAULT_CERT_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                                "certs")
# Loopback only: the emulator accepts published test keys.
HOSTS = {"127.0.0.1": ("127.0.0.1", socket.AF_INET),
         "localhost": ("127.0.0.1", socket.AF_INET),
         "::1": ("::1", socket.AF_INET6)}


class _Stop(Exception):
    pass


def _stop(signum, frame):
    raise _Stop()


def _parse_args(argv):
    parser = argparse.ArgumentParser(prog="iothub_emulator",
                                     description="Local Azure IoT Hub service API, ARM and Azure AD emulator.")
    parser.add_argument("--host", default="127.0.0.1", choices=sorted(HOSTS),
                        help="loopback address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=0, help="TCP port, 0 for any free one")
    parser.add_argument("--ready-file", help="write the emulator's address and keys here "
                        "as JSON once it listens")
    parser.add_argument("--cert-dir", default=DEFAULT_CERT_DIR,
                        help="where the test CA and server certificate live "
                        "(made if missing; default %(default)s)")
    parser.add_argument("--verbose", action="store_true",
                        help="log one line per request to stderr")
    return parser.parse_args(argv)


def _write_atomically(path, data):
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=".ready-")
    with os.fdopen(fd, "w") as f:
        json.dump(data, f, indent=2)
        f.write("\n")
    os.replace(tmp, path)


def main(argv=None):
    args = _parse_args(argv)
    address, family = HOSTS[args.host]
    paths = certs.ensure(args.cert_dir)
    state = EmulatorState()
    server = EmulatorServer((address, args.port), family, certs.server_context(paths),
                            state, build_app(state), verbose=args.verbose)
    port = server.server_address[1]
    # Managed identity over plain HTTP on another free port, as App Service's
    # IDENTITY_ENDPOINT is (http://127.0.0.1:PORT/...); same state.
    plain = EmulatorServer((address, 0), family, None, state, plain_http_app(server.app),
                           verbose=args.verbose)
    threading.Thread(target=plain.serve_forever, daemon=True).start()
    url_host = "[{}]".format(address) if family == socket.AF_INET6 else address
    ready = {
        "url": "https://{}:{}".format(url_host, port),
        "identity_url": "http://{}:{}".format(url_host, plain.server_address[1]),
        "port": port,
        "ca_file": paths.ca,
        "host_name": identity.HOST_NAME,
        "connection_string": identity.connection_string("iothubowner"),
        "connection_strings": identity.connection_strings(),
        **identity.management(),
        "pid": os.getpid(),
    }
    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    try:
        if args.ready_file:
            _write_atomically(args.ready_file, ready)
        if args.verbose:
            sys.stderr.write("iothub emulator listening on {}\n".format(ready["url"]))
        server.serve_forever()
    except _Stop:
        pass
    finally:
        server.server_close()
        plain.server_close()
        if args.ready_file and os.path.exists(args.ready_file):
            os.remove(args.ready_file)
    return 0


if __name__ == "__main__":
    sys.exit(main())
