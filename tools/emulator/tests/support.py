"""Shared test helpers: import path, and a real emulator on a free port."""

import http.client
import json
import os
import socket
import ssl
import sys
import tempfile
import threading
import time
import unittest
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from iothub_emulator import certs, identity, sas  # noqa: E402
from iothub_emulator.app import build_app  # noqa: E402
from iothub_emulator.server import EmulatorServer  # noqa: E402
from iothub_emulator.state import EmulatorState  # noqa: E402

_CERT_DIR = os.path.join(tempfile.gettempdir(), "iothub-emulator-test-certs")


def token(policy="iothubowner", sr=identity.HOST_NAME, ttl=3600):
    se = str(int(time.time()) + ttl)
    sig = sas.sign(identity.POLICY_KEYS[policy], sr, se)
    return "SharedAccessSignature sr={}&sig={}&se={}&skn={}".format(
        sr, urllib.parse.quote(sig, safe=""), se, policy)


class EmulatorTestCase(unittest.TestCase):
    """A test case with one running emulator for the whole class."""

    @classmethod
    def setUpClass(cls):
        cls.emulator = RunningEmulator().__enter__()

    @classmethod
    def tearDownClass(cls):
        cls.emulator.__exit__(None, None, None)


class RunningEmulator:
    """An emulator serving from a thread; use as a context manager."""

    def __enter__(self):
        paths = certs.ensure(_CERT_DIR)
        self.state = EmulatorState()
        self.server = EmulatorServer(("127.0.0.1", 0), socket.AF_INET,
                                     certs.server_context(paths), self.state,
                                     build_app(self.state))
        self.port = self.server.server_address[1]
        self.client_context = ssl.create_default_context(cafile=paths.ca)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()

    def connect(self):
        return http.client.HTTPSConnection("127.0.0.1", self.port, context=self.client_context)

    def request(self, method, path, headers=None, body=None, conn=None):
        """Send one request; return (status, headers, parsed JSON body or None)."""
        own = conn is None
        conn = conn or self.connect()
        try:
            conn.request(method, path, body=body, headers=headers or {})
            response = conn.getresponse()
            data = response.read()
        finally:
            if own:
                conn.close()
        return response.status, response.headers, json.loads(data) if data else None
