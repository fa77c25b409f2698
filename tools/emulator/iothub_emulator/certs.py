"""The test certificate authority and the server certificate it signs.

Made once per certificate directory with the openssl command line, then
reused. A lock file keeps two emulators starting at once from making two
different CAs; files are written under temporary names and renamed into
place, so a half-written file is never picked up.
"""

import fcntl
import os
import secrets
import ssl
import subprocess
import tempfile
from dataclasses import dataclass

CA_SUBJECT = "/CN=lua-iothub test CA"
SERVER_SUBJECT = "/CN=localhost"
VALID_DAYS = "3650"
SERVER_EXTENSIONS = """\
basicConstraints = CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = IP:127.0.0.1, IP:::1, DNS:localhost
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid, issuer
"""


@dataclass
class CertPaths:
    ca: str
    ca_key: str
    server: str
    server_key: str

    @classmethod
    def under(cls, directory):
        directory = os.path.abspath(directory)
        return cls(*(os.path.join(directory, name)
                     for name in ("ca.pem", "ca.key", "server.pem", "server.key")))

    def all_exist(self):
        return all(os.path.isfile(p) for p in (self.ca, self.ca_key, self.server, self.server_key))


def _openssl(*args):
    subprocess.run(["openssl", *args], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def _generate(paths, scratch):
    tmp = CertPaths.under(scratch)
    csr = os.path.join(scratch, "server.csr")
    extensions = os.path.join(scratch, "server.ext")
    with open(extensions, "w") as f:
        f.write(SERVER_EXTENSIONS)
    _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", VALID_DAYS,
             "-subj", CA_SUBJECT, "-keyout", tmp.ca_key, "-out", tmp.ca,
             "-addext", "basicConstraints=critical,CA:TRUE",
             "-addext", "keyUsage=critical,keyCertSign,cRLSign")
    _openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", SERVER_SUBJECT,
             "-keyout", tmp.server_key, "-out", csr)
    _openssl("x509", "-req", "-in", csr, "-CA", tmp.ca, "-CAkey", tmp.ca_key,
             "-set_serial", "0x" + secrets.token_hex(16), "-days", VALID_DAYS,
             "-extfile", extensions, "-out", tmp.server)
    # The server certificate last: once it is in place, the set is complete.
    for name in ("ca_key", "ca", "server_key", "server"):
        os.replace(getattr(tmp, name), getattr(paths, name))


def ensure(directory):
    """Return the CertPaths under ``directory``, creating the files if missing."""
    os.makedirs(directory, exist_ok=True)
    paths = CertPaths.under(directory)
    with open(os.path.join(directory, ".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not paths.all_exist():
            with tempfile.TemporaryDirectory(dir=directory, prefix=".new-") as scratch:
                _generate(paths, scratch)
    return paths


def server_context(paths):
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(paths.server, paths.server_key)
    return context
