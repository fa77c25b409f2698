"""Scripted faults (POST /_emulator/faults) over real TLS connections: error
answers, broken bodies, stalls, and connections closed, truncated or reset."""

import base64
import email.utils
import http.client
import json
import socket
import ssl
import threading
import time
import unittest

import support
from iothub_emulator import fixtures, identity

API = "?api-version=2021-04-12"
JOB = "/jobs/v2/fixture-twin-1"
TOKEN_PATH = "/{}/oauth2/v2.0/token".format(identity.TENANT_ID)
FRAMINGS = ("chunked", "drip", "connection_close", "http10", "no_length", "informational",
            "idle_close", "header_case", "garbage_after")
# Rules that get a kind through a whole answer quickly.
FAST = {"drip": {"piece": 64, "delay_ms": 0}, "chunked": {"chunk_size": 512}}
# Headers that differ between any two answers, whatever their framing.
VOLATILE = {"date", "x-ms-request-id", "content-length", "transfer-encoding", "connection"}


def parse(data):
    """Every HTTP/1.1 response in ``data``, read strictly by the book:
    ([{"version", "status", "fields": [(name as sent, value trimmed)],
       "headers": {lowercase name: value}, "raw_head", "body", "trailers",
       "sizes": chunk sizes as sent}], the bytes after the last one).
    An answer without Content-Length or chunked runs to the end of ``data``."""
    responses = []
    while data:
        raw_head, sep, rest = data.partition(b"\r\n\r\n")
        if not sep or not raw_head.startswith(b"HTTP/"):
            break
        lines = raw_head.decode("latin-1").split("\r\n")
        version, status, _ = lines[0].split(" ", 2)
        fields = []
        for line in lines[1:]:
            name, colon, value = line.partition(":")
            assert colon and name and name == name.strip(), line
            fields.append((name, value.strip(" \t")))
        headers = {}
        for name, value in fields:
            headers[name.lower()] = value
        answer = {"version": version, "status": int(status), "fields": fields,
                  "headers": headers, "raw_head": raw_head, "body": b"", "trailers": [],
                  "sizes": []}
        responses.append(answer)
        data = rest
        if answer["status"] < 200 or answer["status"] in (204, 304):
            continue
        if headers.get("transfer-encoding", "").lower() == "chunked":
            body = b""
            while True:
                line, crlf, data = data.partition(b"\r\n")
                if not crlf:
                    return responses, None  # incomplete
                answer["sizes"].append(line.decode("latin-1"))
                size = int(line.split(b";")[0], 16)
                if size == 0:
                    break
                if len(data) < size + 2:
                    return responses, None
                assert data[size:size + 2] == b"\r\n", data[size:size + 2]
                body, data = body + data[:size], data[size + 2:]
            while True:
                line, crlf, data = data.partition(b"\r\n")
                if not crlf:
                    return responses, None
                if not line:
                    break
                answer["trailers"].append(line.decode("latin-1"))
            answer["body"] = body
        elif "content-length" in headers:
            length = int(headers["content-length"])
            if len(data) < length:
                return responses, None
            answer["body"], data = data[:length], data[length:]
        else:
            answer["body"], data = data, b""
    return responses, data


def complete(data):
    """Whether ``data`` holds a whole final answer whose end does not depend
    on the connection closing (for FaultTest.wire's ``until``)."""
    responses, rest = parse(data)
    if rest is None or not responses or responses[-1]["status"] < 200:
        return False
    last = responses[-1]
    return last["status"] in (204, 304) or "content-length" in last["headers"] \
        or "transfer-encoding" in last["headers"]


class FaultTest(support.EmulatorTestCase):
    def setUp(self):
        self.control("POST", "reset")
        self.auth = {"Authorization": support.token()}

    # -- helpers ------------------------------------------------------------------------
    def control(self, method, path, body=None):
        data = None if body is None else json.dumps(body)
        return self.emulator.request(method, "/_emulator/" + path, body=data)

    def fault(self, **rule):
        status, _, body = self.control("POST", "faults", rule)
        self.assertEqual(status, 200, body)
        return body["id"]

    def refused(self, **rule):
        status, headers, body = self.control("POST", "faults", rule)
        self.assertEqual((status, headers["iothub-errorcode"]), (400, "ArgumentInvalid"))
        return body["message"]

    def get(self, path=JOB, conn=None, **headers):
        """(status, headers, raw body bytes) over ``conn`` or a new connection."""
        own = conn is None
        conn = conn or self.emulator.connect()
        try:
            conn.request("GET", path + API, headers={**self.auth, **headers})
            response = conn.getresponse()
            return response.status, response.headers, response.read()
        finally:
            if own:
                conn.close()

    def raw(self, path=JOB, method="GET", body=b""):
        """Send one request over TLS on a plain TCP socket and read until the
        connection ends: (head text, body bytes, how it ended). The TLS layer is
        an ssl.MemoryBIO, so a TCP reset is told apart from an end of stream:
        "reset" (RST), "closed" (TLS close_notify then FIN), "fin" (FIN alone)."""
        data, end, _ = self.wire(path, method, body)
        head, _, rest = data.partition(b"\r\n\r\n")
        return head.decode("latin-1"), rest, end

    def wire(self, path=JOB, method="GET", body=b"", until=None, linger=0, requests=1):
        """Like raw, but returns (every byte received, how it ended, the TLS
        records' plaintexts in order). With ``until(data)``, stops reading once
        it holds; then ``linger`` seconds more to see whether the connection
        ends ("open" if it does not). ``requests`` > 1 sends the next request
        on the same connection each time ``until`` holds for what came since."""
        sock = socket.create_connection(("127.0.0.1", self.emulator.port), timeout=10)
        incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
        tls = self.emulator.client_context.wrap_bio(incoming, outgoing,
                                                    server_hostname="127.0.0.1")
        with sock:
            while True:
                try:
                    tls.do_handshake()
                    break
                except ssl.SSLWantReadError:
                    sock.sendall(outgoing.read())
                    received = sock.recv(65536)
                    self.assertTrue(received, "connection closed during the TLS handshake")
                    incoming.write(received)
            head = "{} {}{} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: {}\r\n" \
                   "Content-Length: {}\r\n\r\n".format(
                       method, path, API, self.auth["Authorization"], len(body))
            tls.write(head.encode() + body)
            sock.sendall(outgoing.read())
            data, records, end, mark, sent = b"", [], None, 0, 1
            deadline = None
            while end is None:
                if until and until(data[mark:]):
                    if sent < requests:
                        mark, sent = len(data), sent + 1
                        tls.write(head.encode() + body)
                        sock.sendall(outgoing.read())
                        continue
                    if deadline is None:
                        if not linger:
                            end = "open"
                            break
                        deadline = time.monotonic() + linger
                    left = deadline - time.monotonic()
                    if left <= 0:
                        end = "open"
                        break
                    sock.settimeout(left)
                try:
                    chunk = sock.recv(65536)
                except ConnectionResetError:
                    end = "reset"
                    break
                except TimeoutError:
                    end = "open"
                    break
                if chunk:
                    incoming.write(chunk)
                else:
                    incoming.write_eof()
                while True:
                    try:
                        piece = tls.read(65536)
                    except ssl.SSLWantReadError:
                        break
                    except ssl.SSLZeroReturnError:
                        end = "closed"
                        break
                    except ssl.SSLError:
                        end = "fin"
                        break
                    if not piece:
                        end = "closed"
                        break
                    data += piece
                    records.append(piece)
                if not chunk and end is None:
                    end = "fin"
        return data, end, records

    def log(self):
        return self.control("GET", "requests")[2]

    def listed(self):
        return self.control("GET", "faults")[2]["faults"]

    # -- the control API ----------------------------------------------------------------
    def test_add_list_and_clear(self):
        first = self.fault(fault="error", status=503, path="/jobs/v2/", times=2)
        second = self.fault(fault="close", method="post")
        self.assertEqual(second, first + 1)
        faults = self.listed()
        self.assertEqual([(f["id"], f["fault"], f["hits"], f["remaining"]) for f in faults],
                         [(first, "error", 0, 2), (second, "close", 0, 1)])
        self.assertEqual((faults[1]["method"], faults[1]["path"], faults[1]["times"],
                          faults[1]["skip"]), ("POST", None, 1, 0))
        self.assertEqual(faults[0]["shape"], 4)
        status, _, body = self.control("DELETE", "faults")
        self.assertEqual((status, body), (204, None))
        self.assertEqual(self.listed(), [])

    def test_delete_one(self):
        first = self.fault(fault="error", status=500)
        second = self.fault(fault="error", status=503)
        self.assertEqual(self.control("DELETE", "faults/{}".format(first))[0], 204)
        self.assertEqual([f["id"] for f in self.listed()], [second])
        self.assertEqual(self.control("DELETE", "faults/{}".format(first))[0], 404)

    def test_reset_clears_faults(self):
        self.fault(fault="error", status=503, times=0)
        self.control("POST", "reset")
        self.assertEqual(self.listed(), [])
        self.assertEqual(self.get()[0], 200)

    def test_bad_rules_are_refused_with_a_reason(self):
        cases = [({"fault": "explode"}, "fault must be one of"),
                 ({"status": 503}, "fault must be one of"),
                 ({"fault": "error"}, "needs a status"),
                 ({"fault": "error", "status": "503"}, "status must be an integer"),
                 ({"fault": "error", "status": 503, "shape": 5}, "shape must be"),
                 ({"fault": "error", "status": 503, "time": 2}, "does not take time"),
                 ({"fault": "error", "status": 503, "times": -1}, "times must be"),
                 ({"fault": "error", "status": 503, "skip": True}, "skip must be"),
                 ({"fault": "error", "status": 503, "path": "jobs"}, "path must"),
                 ({"fault": "error", "status": 503, "headers": {"a": {}}}, "headers"),
                 ({"fault": "stall"}, "needs seconds"),
                 ({"fault": "stall", "seconds": 1, "then": "explode"}, "then must be"),
                 ({"fault": "oversize"}, "needs bytes"),
                 ({"fault": "reset", "after_bytes": -1}, "after_bytes must be"),
                 ({"fault": "body", "body": "x", "body_b64": "eA=="}, "not both"),
                 ({"fault": "body", "body_b64": "not base64!"}, "base64"),
                 ({"fault": "close", "seconds": 1}, "does not take seconds")]
        for rule, reason in cases:
            with self.subTest(rule=rule):
                self.assertIn(reason, self.refused(**rule))
        status, _, body = self.emulator.request("POST", "/_emulator/faults", body="[1")
        self.assertEqual(status, 400)
        self.assertEqual(self.listed(), [])

    # -- matching and counting ----------------------------------------------------------
    def test_times_skip_and_hits(self):
        fault_id = self.fault(fault="error", status=503, path="/jobs/v2/fixture", times=2,
                              skip=1)
        statuses = [self.get()[0] for _ in range(5)]
        self.assertEqual(statuses, [200, 503, 503, 200, 200])
        [fault] = self.listed()
        self.assertEqual((fault["id"], fault["hits"], fault["skipped"], fault["remaining"]),
                         (fault_id, 2, 1, 0))
        log = self.log()
        self.assertEqual(len(log), 5)
        self.assertEqual([entry.get("fault") for entry in log],
                         [None, "error", "error", None, None])
        self.assertEqual(log[1]["fault_id"], fault_id)
        self.assertEqual(self.control("GET", "stats")[2]["requests"], 5)

    def test_times_zero_is_every_request_until_cleared(self):
        self.fault(fault="error", status=500, times=0)
        self.assertEqual([self.get()[0] for _ in range(4)], [500] * 4)
        self.assertIsNone(self.listed()[0]["remaining"])
        self.assertEqual(self.listed()[0]["hits"], 4)
        self.control("DELETE", "faults")
        self.assertEqual(self.get()[0], 200)

    def test_method_and_path_prefix_without_the_query(self):
        self.fault(fault="error", status=429, method="post", path="/devices/query", times=0)
        self.fault(fault="error", status=404, path="/twins/device-00", times=0)
        self.assertEqual(self.get("/twins/device-001")[0], 404)
        self.assertEqual(self.get("/twins/device-011")[0], 200)
        self.assertEqual(self.get(JOB)[0], 200)
        status, _, _ = self.emulator.request(
            "POST", "/devices/query" + API, {**self.auth, "Content-Type": "application/json"},
            json.dumps({"query": "SELECT * FROM devices"}))
        self.assertEqual(status, 429)
        # the query string is not part of what a path matches
        self.fault(fault="error", status=400, path="/jobs/v2/fixture-twin-1?api", times=0)
        self.assertEqual(self.get()[0], 200)

    def test_first_matching_rule_wins_and_skipping_rules_pass_requests_on(self):
        self.fault(fault="error", status=503, path="/jobs/v2/", times=1)
        self.fault(fault="error", status=500, skip=1, times=1)
        self.fault(fault="error", status=429, times=0)
        self.assertEqual([self.get()[0] for _ in range(4)], [503, 429, 500, 429])

    def test_control_routes_are_never_faulted(self):
        self.fault(fault="close", times=0)
        self.assertEqual(self.control("GET", "stats")[0], 200)
        self.assertEqual(self.control("GET", "faults")[0], 200)
        self.assertEqual(self.listed()[0]["hits"], 0)

    def test_every_route_can_be_faulted(self):
        paths = [TOKEN_PATH, "/metadata/identity/oauth2/token", "/msi/token",
                 "/subscriptions/{}/resourceGroups/{}/providers/Microsoft.Devices/IotHubs/{}"
                 "/jobs".format(identity.SUBSCRIPTION_ID, identity.RESOURCE_GROUP,
                                identity.HUB_NAME), "/no/such/route"]
        self.fault(fault="error", status=418, shape="text", message="teapot", times=0)
        for path in paths:
            with self.subTest(path=path):
                status, headers, body = self.get(path)
                self.assertEqual((status, body), (418, b"teapot"))
                self.assertTrue(headers["x-ms-request-id"])
        self.assertEqual([entry["path"] for entry in self.log()], paths)

    # -- error answers ------------------------------------------------------------------
    def test_error_shapes(self):
        self.fault(fault="error", status=429, code="ThrottlingException", shape=1)
        self.fault(fault="error", status=429, code="ThrottlingMaxActiveJobCountExceeded",
                   shape=2, message="Too many jobs")
        self.fault(fault="error", status=404, code="DeviceNotFound", shape=3)
        self.fault(fault="error", status=503)
        status, headers, body = self.get()
        body = json.loads(body)
        self.assertEqual((status, headers["iothub-errorcode"]), (429, "ThrottlingException"))
        self.assertTrue(body["Message"].startswith("ErrorCode:ThrottlingException;"))
        self.assertRegex(body["ExceptionMessage"], r"^Tracking ID:\w+-G:0-TimeStamp:")
        status, _, body = self.get()
        message = json.loads(body)["Message"]
        self.assertTrue(message.startswith("ErrorCode:ThrottlingMaxActiveJobCountExceeded;"
                                           "Error: 429 {"), message)
        inner = json.loads(message.split("Error: 429 ", 1)[1])
        self.assertEqual(inner["Message"],
                         "ErrorCode:ThrottlingMaxActiveJobCountExceeded;Too many jobs")
        status, _, body = self.get()
        inner = json.loads(json.loads(body)["Message"])
        self.assertEqual((status, inner["errorCode"]), (404, 404001))
        status, headers, body = self.get()
        body = json.loads(body)
        self.assertEqual((status, headers["iothub-errorcode"], body["errorCode"]),
                         (503, "ServiceUnavailable", 503001))
        self.assertEqual(set(body), {"errorCode", "trackingId", "message", "timestampUtc"})

    def test_error_codes_and_headers(self):
        date = email.utils.formatdate(time.time() + 3, usegmt=True)
        self.fault(fault="error", status=429, code="SomethingNew", error_code=429999,
                   headers={"retry-after-ms": 250, "x-ms-retry-after-ms": "300",
                            "Retry-After": date})
        self.fault(fault="error", status=502, headers={"iothub-errorcode": None})
        self.fault(fault="error", status=503, code="Custom")
        status, headers, body = self.get()
        self.assertEqual((status, json.loads(body)["errorCode"]), (429, 429999))
        self.assertEqual((headers["retry-after-ms"], headers["x-ms-retry-after-ms"],
                          headers["Retry-After"]), ("250", "300", date))
        self.assertEqual(headers["iothub-errorcode"], "SomethingNew")
        status, headers, body = self.get()
        self.assertEqual((status, headers.get("iothub-errorcode")), (502, None))
        self.assertEqual(json.loads(body)["errorCode"], 502000)
        self.assertEqual(json.loads(self.get()[2])["errorCode"], 503000)

    def test_arm_and_aad_and_plain_errors(self):
        self.fault(fault="error", status=429, shape="arm", headers={"Retry-After": "7"})
        self.fault(fault="error", status=404, shape="arm_details", code="JobNotFound")
        self.fault(fault="error", status=503, shape="aad")
        self.fault(fault="error", status=400, shape="aad", code="invalid_grant",
                   error_code=70008, message="The refresh token has expired.")
        self.fault(fault="error", status=500, shape="text")
        self.fault(fault="error", status=503, shape="empty")
        status, headers, body = self.get()
        self.assertEqual((status, headers["Retry-After"]), (429, "7"))
        self.assertEqual(json.loads(body)["error"]["code"], "SubscriptionRequestsThrottled")
        self.assertTrue(headers["x-ms-correlation-request-id"])
        status, _, body = self.get()
        self.assertEqual(json.loads(body)["httpStatusCode"], "NotFound")
        self.assertEqual(json.loads(body)["code"], "JobNotFound")
        status, _, body = self.get(TOKEN_PATH)
        body = json.loads(body)
        self.assertEqual((status, body["error"], body["error_codes"]),
                         (503, "temporarily_unavailable", [90033]))
        self.assertTrue(body["error_description"].startswith("AADSTS90033: "))
        body = json.loads(self.get(TOKEN_PATH)[2])
        self.assertEqual((body["error"], body["error_codes"]), ("invalid_grant", [70008]))
        self.assertTrue(body["error_description"].startswith(
            "AADSTS70008: The refresh token has expired.\r\nTrace ID: "))
        status, headers, body = self.get()
        self.assertEqual((status, headers["Content-Type"], body),
                         (500, "text/plain; charset=utf-8", b"Internal Server Error"))
        status, headers, body = self.get()
        self.assertEqual((status, headers["Content-Length"], body), (503, "0", b""))
        self.assertTrue(headers["x-ms-request-id"])

    def test_error_does_not_run_the_request_unless_asked(self):
        job = {"jobId": "f1", "type": "scheduleUpdateTwin", "queryCondition": "*",
               "updateTwin": {"etag": "*", "tags": {"x": 1}}}
        self.fault(fault="error", status=503, method="PUT")
        self.fault(fault="error", status=503, method="PUT", run=True)
        put = lambda: self.emulator.request("PUT", "/jobs/v2/f1" + API,  # noqa: E731
                                            self.auth, json.dumps(job))[0]
        self.assertEqual(put(), 503)
        self.assertEqual(self.get("/jobs/v2/f1")[0], 404)
        self.assertEqual(put(), 503)
        self.assertEqual(self.get("/jobs/v2/f1")[0], 200)

    def test_keep_alive_survives_error_faults(self):
        self.fault(fault="error", status=503)
        self.fault(fault="malformed_json")
        conn = self.emulator.connect()
        self.addCleanup(conn.close)
        self.assertEqual([self.get(conn=conn)[0] for _ in range(3)], [503, 200, 200])
        self.assertEqual(len({entry["connection"] for entry in self.log()}), 1)

    # -- the connection -----------------------------------------------------------------
    def test_reset_mid_body(self):
        full = self.get()[2]
        self.fault(fault="reset")
        head, body, end = self.raw()
        self.assertTrue(head.startswith("HTTP/1.1 200"), head)
        self.assertIn("Content-Length: {}".format(len(full)), head)
        self.assertIn("x-ms-request-id: ", head)
        self.assertEqual((body, end), (full[:len(full) // 2], "reset"))
        self.fault(fault="reset", after_bytes=10)
        head, body, end = self.raw()
        self.assertEqual((body, end), (full[:10], "reset"))
        self.assertEqual(self.log()[-1]["fault"], "reset")

    def test_reset_seen_by_http_client(self):
        self.fault(fault="reset", after_bytes=5)
        conn = self.emulator.connect()
        self.addCleanup(conn.close)
        conn.request("GET", JOB + API, headers=self.auth)
        response = conn.getresponse()
        self.assertEqual(response.status, 200)
        with self.assertRaises((ConnectionResetError, http.client.IncompleteRead)):
            response.read()

    def test_close_sends_nothing(self):
        self.fault(fault="close")
        head, body, end = self.raw()
        self.assertEqual((head, body, end), ("", b"", "closed"))
        conn = self.emulator.connect()
        self.addCleanup(conn.close)
        self.fault(fault="close")
        with self.assertRaises(http.client.RemoteDisconnected):
            self.get(conn=conn)
        self.assertEqual([entry.get("fault") for entry in self.log()], ["close", "close"])

    def test_early_answer_comes_before_the_body_and_closes(self):
        self.fault(fault="early_answer", path="/jobs/v2/early", message="too big")
        data, end, _ = self.wire("/jobs/v2/early", "PUT", b"x" * 100000,
                                 until=lambda d: b"too big" in d, linger=3)
        head, _, body = data.partition(b"\r\n\r\n")
        head = head.decode("latin-1")
        self.assertTrue(head.startswith("HTTP/1.1 413 "), head)
        self.assertIn("Connection: close", head)
        self.assertIn(b"too big", body)
        self.assertIn(end, ("closed", "fin"))
        self.assertEqual([entry.get("fault") for entry in self.log()], ["early_answer"])
        self.assertEqual(self.get("/jobs/v2/early")[0], 404)   # the PUT never ran

    def test_truncate_closes_cleanly_short_of_the_length(self):
        full = self.get()[2]
        self.fault(fault="truncate", after_bytes=20)
        head, body, end = self.raw()
        self.assertIn("Content-Length: {}".format(len(full)), head)
        self.assertEqual((body, end), (full[:20], "closed"))
        self.fault(fault="truncate")
        with self.assertRaises(http.client.IncompleteRead):
            self.get()

    def test_stall_then_respond(self):
        self.fault(fault="stall", seconds=0.4)
        started = time.monotonic()
        status, _, body = self.get()
        self.assertGreaterEqual(time.monotonic() - started, 0.4)
        self.assertEqual((status, json.loads(body)), (200, fixtures.TWIN_1))

    def test_stall_blocks_only_its_own_connection(self):
        self.fault(fault="stall", seconds=1.5, path=TOKEN_PATH)
        results = {}

        def slow():
            started = time.monotonic()
            results["status"] = self.get(TOKEN_PATH)[0]
            results["took"] = time.monotonic() - started
        thread = threading.Thread(target=slow)
        thread.start()
        time.sleep(0.1)
        started = time.monotonic()
        self.assertEqual(self.get()[0], 200)
        self.assertLess(time.monotonic() - started, 1.0)
        thread.join()
        self.assertEqual(results["status"], 404)  # the real answer: GET has no route there
        self.assertGreaterEqual(results["took"], 1.5)

    def test_stall_then_close_and_client_timeout(self):
        self.fault(fault="stall", seconds=0.3, then="close")
        started = time.monotonic()
        head, body, end = self.raw()
        self.assertGreaterEqual(time.monotonic() - started, 0.3)
        self.assertEqual((head, body), ("", b""))
        self.fault(fault="stall", seconds=0.3, then="reset")
        self.assertEqual(self.raw()[2], "reset")
        # a client that gives up first; the emulator goes on serving
        self.fault(fault="stall", seconds=0.5)
        conn = http.client.HTTPSConnection("127.0.0.1", self.emulator.port, timeout=0.1,
                                           context=self.emulator.client_context)
        with self.assertRaises(TimeoutError):
            self.get(conn=conn)
        conn.close()
        time.sleep(0.6)
        self.assertEqual(self.get()[0], 200)

    def test_clearing_faults_ends_a_stall(self):
        self.fault(fault="stall", seconds=30)
        thread = threading.Thread(target=lambda: self.get())
        started = time.monotonic()
        thread.start()
        time.sleep(0.2)
        self.control("DELETE", "faults")
        thread.join(5)
        self.assertLess(time.monotonic() - started, 5)

    # -- broken bodies ------------------------------------------------------------------
    def test_truncated_json(self):
        full = self.get()[2]
        self.fault(fault="truncated_json")
        status, headers, body = self.get()
        self.assertEqual((status, body), (200, full[:len(full) // 2]))
        self.assertEqual(headers["Content-Length"], str(len(body)))
        with self.assertRaises(ValueError):
            json.loads(body)
        self.fault(fault="truncated_json", status=201)
        status, _, body = self.get("/jobs/v2/no-such-job")
        self.assertEqual(status, 201)
        self.assertTrue(body.startswith(b'{"jobId":"no-such-job"'), body)
        with self.assertRaises(ValueError):
            json.loads(body)

    def test_malformed_json(self):
        self.fault(fault="malformed_json")
        status, headers, body = self.get()
        self.assertEqual((status, headers["Content-Type"]),
                         (200, "application/json; charset=utf-8"))
        self.assertIn(b'"status": completed', body)
        with self.assertRaises(ValueError):
            json.loads(body)

    def test_oversize(self):
        self.fault(fault="oversize", bytes=300_000)
        status, headers, body = self.get()
        self.assertEqual((status, headers["Content-Length"], len(body)),
                         (200, "300000", 300_000))
        job = json.loads(body)
        self.assertEqual(job["jobId"], "fixture-twin-1")
        self.assertEqual(set(job["padding"]), {"x"})
        self.fault(fault="oversize", bytes=200_000, chunked=True)
        status, headers, body = self.get()
        self.assertEqual((headers["Transfer-Encoding"], len(body)), ("chunked", 200_000))
        self.assertEqual(json.loads(body)["jobId"], "fixture-twin-1")

    def test_oversize_client_hangs_up(self):
        for chunked in (False, True):
            self.fault(fault="oversize", bytes=50_000_000, chunked=chunked)
            conn = self.emulator.connect()
            conn.request("GET", JOB + API, headers=self.auth)
            response = conn.getresponse()
            self.assertEqual(len(response.read(1000)), 1000)
            conn.sock.shutdown(socket.SHUT_RDWR)
            conn.close()
        self.assertEqual(self.get()[0], 200)

    def test_invalid_utf8(self):
        self.fault(fault="invalid_utf8")
        status, headers, body = self.get()
        self.assertEqual(status, 200)
        self.assertIn(b"\xff\xfe\xc3\x28", body)
        with self.assertRaises(UnicodeDecodeError):
            body.decode("utf-8")
        job = json.loads(body.decode("latin-1"))
        self.assertIn("\xff\xfe\xc3(", job["failureReason"])
        self.assertEqual(job["updateTwin"], fixtures.TWIN_1["updateTwin"])
        self.fault(fault="invalid_utf8")
        status, _, body = self.get("/twins/device-001")
        twin = json.loads(body.decode("latin-1"))
        self.assertEqual(twin["deviceId"], "device-001")
        self.assertIn("\xff", twin["note"])

    def test_deep_nesting(self):
        self.fault(fault="deep_nesting", depth=40)
        status, _, body = self.get("/jobs/v2/a%2Fb")
        value = json.loads(body)
        self.assertEqual((status, value["jobId"], value["status"]), (200, "a/b", "completed"))
        depth, deep = 0, value["deep"]
        while isinstance(deep, list):
            depth, deep = depth + 1, deep[0] if deep else None
        self.assertEqual(depth, 40)
        self.fault(fault="deep_nesting")
        body = self.get()[2]
        self.assertIn(b"[" * 10000 + b"]" * 10000, body)
        self.assertNotIn(b"[" * 10001, body)

    def test_body(self):
        raw = b"\x00\x01not json\xff"
        self.fault(fault="body", status=202, body_b64=base64.b64encode(raw).decode(),
                   content_type="application/octet-stream", headers={"x-extra": "1"})
        self.fault(fault="body", body='{"jobId": "x", "status": "completed"}')
        self.fault(fault="body", status=204)
        status, headers, body = self.get()
        self.assertEqual((status, body, headers["Content-Type"], headers["x-extra"]),
                         (202, raw, "application/octet-stream", "1"))
        self.assertTrue(headers["x-ms-request-id"])
        status, headers, body = self.get()
        self.assertEqual((status, json.loads(body)), (200, {"jobId": "x", "status": "completed"}))
        self.assertEqual(self.get()[0], 204)


    def test_raw(self):
        data = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n{}"
        self.fault(fault="raw", data_b64=base64.b64encode(data).decode())
        received, end, _ = self.wire()
        self.assertEqual((received, end), (data, "closed"))
        self.assertIn("data_b64", self.refused(fault="raw"))
        self.assertIn("data_b64", self.refused(fault="raw", data_b64="not base64!"))

    # -- framings: the real answer, framed differently ----------------------------------
    def plain(self, path=JOB, method="GET", body=b""):
        """The answer without a fault, parsed."""
        data, end, _ = self.wire(path, method, body, until=complete)
        [answer], rest = parse(data)
        self.assertEqual((rest, end), (b"", "open"))
        return answer

    def same_answer(self, answer, plain, length=True):
        """``answer`` carries what ``plain`` does: status, body, headers
        (names in any case, values trimmed) but the volatile ones."""
        self.assertEqual((answer["status"], answer["body"]), (plain["status"], plain["body"]))
        stable = lambda a: {k: v for k, v in a["headers"].items()  # noqa: E731
                            if k not in VOLATILE and k != "cache-control" and k != "trailer"}
        self.assertEqual(stable(answer), stable(plain))
        if length:
            self.assertEqual(answer["headers"]["content-length"], str(len(plain["body"])))
        else:
            self.assertNotIn("content-length", answer["headers"])

    def test_framing_rules_are_checked(self):
        cases = [({"fault": "chunked", "chunk_size": 0}, "chunk_size must be"),
                 ({"fault": "chunked", "extensions": "yes"}, "extensions must be true or false"),
                 ({"fault": "chunked", "trailers": 1}, "trailers must be true or false"),
                 ({"fault": "chunked", "odd_sizes": None}, "odd_sizes must be true or false"),
                 ({"fault": "drip", "piece": 0}, "piece must be"),
                 ({"fault": "drip", "delay_ms": 0.5}, "delay_ms must be"),
                 ({"fault": "drip", "delay_ms": 10_001}, "delay_ms must be"),
                 ({"fault": "informational", "status": 200}, "status must be one of 100, 102, 103"),
                 ({"fault": "informational", "status": 101}, "status must be one of"),
                 ({"fault": "idle_close", "after_ms": -1}, "after_ms must be"),
                 ({"fault": "garbage_after", "bytes": 0}, "bytes must be"),
                 ({"fault": "garbage_after", "delay_ms": -1}, "delay_ms must be"),
                 ({"fault": "http10", "status": 200}, "does not take status"),
                 ({"fault": "connection_close", "run": True}, "does not take run"),
                 ({"fault": "header_case", "chunked": True}, "does not take chunked")]
        for rule, reason in cases:
            with self.subTest(rule=rule):
                self.assertIn(reason, self.refused(**rule))
        for kind in FRAMINGS:
            self.fault(fault=kind)
        defaults = {f["fault"]: {k: v for k, v in f.items() if k not in (
            "id", "fault", "method", "path", "times", "skip", "headers", "hits", "skipped",
            "remaining")} for f in self.listed()}
        self.assertEqual(defaults, {
            "chunked": {"chunk_size": 7, "extensions": False, "trailers": False,
                        "odd_sizes": False},
            "drip": {"piece": 1, "delay_ms": 1}, "connection_close": {}, "http10": {},
            "no_length": {}, "informational": {"status": 100}, "idle_close": {"after_ms": 50},
            "header_case": {}, "garbage_after": {"bytes": 16, "delay_ms": 0}})

    def test_chunked(self):
        plain = self.plain()
        self.fault(fault="chunked")
        data, end, _ = self.wire(until=complete)
        [answer], rest = parse(data)
        self.assertEqual((rest, end), (b"", "open"))
        self.same_answer(answer, plain, length=False)
        self.assertEqual(answer["headers"]["transfer-encoding"], "chunked")
        body = plain["body"]
        self.assertEqual(answer["sizes"], ["7"] * (len(body) // 7)
                         + (["%x" % (len(body) % 7)] if len(body) % 7 else []) + ["0"])
        self.assertNotIn(b"x-fault-trailer", data)
        self.assertEqual(answer["trailers"], [])

    def test_chunked_with_extensions_and_trailers(self):
        plain = self.plain()
        self.fault(fault="chunked", chunk_size=100, extensions=True, trailers=True)
        data, end, _ = self.wire(until=complete)
        [answer], rest = parse(data)
        self.same_answer(answer, plain, length=False)
        self.assertEqual(answer["headers"]["trailer"], "x-fault-trailer")
        self.assertEqual(answer["trailers"], ["x-fault-trailer: done"])
        self.assertTrue(all(size.endswith(";name=value") for size in answer["sizes"]))
        self.assertEqual(answer["sizes"][0], "64;name=value")
        self.assertEqual(answer["sizes"][-1], "0;name=value")
        # Python's own client reads it too
        self.fault(fault="chunked", chunk_size=1, extensions=True, trailers=True)
        status, headers, body = self.get()
        self.assertEqual((status, body, headers["Transfer-Encoding"]),
                         (200, plain["body"], "chunked"))

    def test_chunked_sizes_in_upper_case_hex_with_leading_zeros(self):
        plain = self.plain()
        self.fault(fault="chunked", chunk_size=26, odd_sizes=True, extensions=True)
        [answer], _ = parse(self.wire(until=complete)[0])
        self.same_answer(answer, plain, length=False)
        self.assertEqual(answer["sizes"][0], "001A;name=value")
        self.assertEqual(answer["sizes"][-1], "0000;name=value")
        self.assertEqual(len(answer["sizes"]), -(-len(plain["body"]) // 26) + 1)

    def test_chunked_large_query_page(self):
        plain = self.plain("/jobs/v2/query")
        self.assertGreater(len(plain["body"]), 50_000)
        self.assertEqual(len(json.loads(plain["body"])), 100)
        self.fault(fault="chunked", chunk_size=4096)
        [answer], _ = parse(self.wire("/jobs/v2/query", until=complete)[0])
        self.same_answer(answer, plain, length=False)
        self.assertTrue(answer["headers"]["x-ms-continuation"])

    def test_drip(self):
        plain = self.plain()
        self.fault(fault="drip", piece=5, delay_ms=2)
        started = time.monotonic()
        data, end, records = self.wire(until=complete)
        took = time.monotonic() - started
        [answer], rest = parse(data)
        self.assertEqual((rest, end), (b"", "open"))
        self.same_answer(answer, plain)
        self.assertEqual({len(r) for r in records[:-1]}, {5})
        self.assertLessEqual(len(records[-1]), 5)
        self.assertGreaterEqual(took, (len(records) - 1) * 0.002)
        self.fault(fault="drip", delay_ms=0)
        data, _, records = self.wire(until=complete)
        self.assertEqual(set(map(len, records)), {1})
        self.assertIn(b"\r", records)
        self.same_answer(parse(data)[0][0], plain)

    def test_connection_close(self):
        plain = self.plain()
        self.fault(fault="connection_close")
        data, end, _ = self.wire()
        [answer], rest = parse(data)
        self.assertEqual((rest, end), (b"", "closed"))
        self.same_answer(answer, plain)
        self.assertEqual(answer["headers"]["connection"], "close")

    def test_http10(self):
        plain = self.plain()
        self.fault(fault="http10")
        data, end, _ = self.wire()
        self.assertTrue(data.startswith(b"HTTP/1.0 200 OK\r\n"), data[:20])
        [answer], rest = parse(data)
        self.assertEqual(end, "closed")
        self.same_answer(answer, plain, length=False)
        self.assertNotIn("transfer-encoding", answer["headers"])
        self.assertNotIn("connection", answer["headers"])
        self.fault(fault="http10")
        status, headers, body = self.get()
        self.assertEqual((status, body, headers["Content-Length"]), (200, plain["body"], None))

    def test_no_length(self):
        plain = self.plain()
        self.fault(fault="no_length")
        data, end, _ = self.wire()
        self.assertTrue(data.startswith(b"HTTP/1.1 200 OK\r\n"), data[:20])
        [answer], rest = parse(data)
        self.assertEqual(end, "closed")
        self.same_answer(answer, plain, length=False)
        self.assertNotIn("transfer-encoding", answer["headers"])
        self.assertEqual(answer["headers"]["connection"], "close")

    def test_informational(self):
        plain = self.plain()
        self.fault(fault="informational")
        self.fault(fault="informational", status=103)
        data, end, records = self.wire(until=complete)
        self.assertEqual(records[0], b"HTTP/1.1 100 Continue\r\n\r\n")
        interim, answer = parse(data)[0]
        self.assertEqual((interim["status"], interim["fields"], end), (100, [], "open"))
        self.same_answer(answer, plain)
        data, end, records = self.wire(until=complete)
        self.assertEqual(records[0], b"HTTP/1.1 103 Early Hints\r\n"
                         b"Link: </static/hints.css>; rel=preload; as=style\r\n\r\n")
        interim, answer = parse(data)[0]
        self.same_answer(answer, plain)
        # Python's client skips a 100
        self.fault(fault="informational")
        self.assertEqual(self.get()[::2], (200, plain["body"]))

    def test_idle_close(self):
        plain = self.plain()
        self.fault(fault="idle_close", after_ms=100)
        started = time.monotonic()
        data, end, _ = self.wire(until=complete, linger=2)
        took = time.monotonic() - started
        [answer], rest = parse(data)
        self.same_answer(answer, plain)
        self.assertEqual(end, "closed")
        self.assertGreaterEqual(took, 0.1)
        self.assertLess(took, 1.5)
        # a request within after_ms keeps the connection, as any keep-alive would
        self.fault(fault="idle_close", after_ms=5000)
        data, end, _ = self.wire(until=complete, requests=2)
        self.assertEqual([a["status"] for a in parse(data)[0]], [200, 200])
        self.assertEqual(end, "open")
        self.assertEqual(len({entry["connection"] for entry in self.log()[-2:]}), 1)

    def test_header_case(self):
        plain = self.plain()
        self.fault(fault="header_case")
        data, end, _ = self.wire(until=complete)
        [answer], rest = parse(data)
        self.assertEqual((rest, end), (b"", "open"))
        self.same_answer(answer, plain)
        head = answer["raw_head"].decode("latin-1")
        self.assertIn("\r\ncontent-LENGTH:", head)
        self.assertIn("\r\nCONTENT-TYPE:", head)
        self.assertIn("\r\nx-Ms-ReQuEsT-iD:", head)
        self.assertRegex(head, r"\r\n[^:\r]+:[ \t]{2,}\S[^\r]*\S[ \t]+\r\n")
        self.assertEqual([name.lower() for name, _ in answer["fields"]].count("cache-control"), 2)
        self.assertEqual(answer["headers"]["cache-control"], "no-cache")
        names = [name for name, _ in answer["fields"]]
        self.assertTrue(all(name != name.lower() and name != name.title()
                            for name in names if name.lower() != "cache-control"), names)

    def test_garbage_after(self):
        plain = self.plain()
        self.fault(fault="garbage_after")
        data, end, records = self.wire(until=complete, linger=0.2)
        [answer], rest = parse(data)
        self.same_answer(answer, plain)
        self.assertEqual((rest, end), (b"JUNK\x00\xff\r\nJUNK\x00\xff\r\n", "open"))
        self.assertEqual(records[-1][-16:], rest)  # in the answer's own write
        self.fault(fault="garbage_after", bytes=3, delay_ms=50)
        data, end, records = self.wire(until=complete, linger=0.3)
        self.assertEqual((parse(data)[1], records[-1], end), (b"JUN", b"JUN", "open"))

    def test_framings_keep_status_and_body_on_every_route(self):
        routes = [("GET", JOB), ("GET", "/twins/device-001"), ("GET", "/jobs/v2/query"),
                  ("GET", "/jobs/v2/no-such-job"), ("GET", "/no/such/route"),
                  ("POST", TOKEN_PATH)]
        for kind in FRAMINGS:
            for method, path in routes:
                with self.subTest(kind=kind, path=path):
                    plain = self.plain(path, method)
                    self.fault(**FAST.get(kind, {}), fault=kind)
                    keep = kind not in ("connection_close", "http10", "no_length")
                    data, end, _ = self.wire(path, method, until=complete if keep else None)
                    answers, rest = parse(data)
                    answer = answers[-1]
                    self.assertEqual((answer["status"], answer["headers"].get("iothub-errorcode")),
                                     (plain["status"], plain["headers"].get("iothub-errorcode")))
                    if plain["status"] == 200:
                        self.assertEqual(answer["body"], plain["body"])
                    else:  # error bodies carry a fresh tracking id and time
                        self.assertEqual(set(json.loads(answer["body"])),
                                         set(json.loads(plain["body"])))
                    self.assertEqual(end, "open" if keep else "closed")

    def test_framings_leave_bodyless_answers_bodyless(self):
        export = json.dumps({"type": "export", "outputBlobContainerUri": "https://blob.example/c"})
        for kind in FRAMINGS:
            with self.subTest(kind=kind):
                status, _, job = self.emulator.request(
                    "POST", "/jobs/create" + API, {**self.auth, "Content-Type": "application/json"},
                    export)
                self.assertEqual(status, 200)
                self.fault(**FAST.get(kind, {}), fault=kind, method="DELETE")
                data, end, _ = self.wire("/jobs/" + job["jobId"], "DELETE", until=complete)
                answers, rest = parse(data)
                answer = answers[-1]
                junk = b"JUNK\x00\xff\r\nJUNK\x00\xff\r\n" if kind == "garbage_after" else b""
                self.assertEqual((answer["status"], answer["body"], rest), (204, b"", junk))
                self.assertNotIn("transfer-encoding", answer["headers"])
                self.assertNotIn("content-length", answer["headers"])

    def test_framings_take_rule_headers(self):
        for kind in FRAMINGS:
            with self.subTest(kind=kind):
                self.fault(**FAST.get(kind, {}), fault=kind,
                           headers={"retry-after-ms": 5, "x-ms-request-id": "fixed"})
                keep = kind not in ("connection_close", "http10", "no_length")
                data, _, _ = self.wire(until=complete if keep else None)
                answer = parse(data)[0][-1]
                self.assertEqual((answer["headers"]["retry-after-ms"],
                                  answer["headers"]["x-ms-request-id"]), ("5", "fixed"))
                self.assertEqual(self.log()[-1]["fault"], kind)

if __name__ == "__main__":
    unittest.main()
