"""Twins over HTTPS: GET, PATCH and PUT on device and module twins with
etags, versions and $metadata; /devices/query projections, aggregates,
devices.modules, IS_DEFINED, item types and refused queries."""

import json
import unittest

import support
from iothub_emulator import query, twins

API = "api-version=2021-04-12"


class TwinRoutesTest(support.EmulatorTestCase):
    def setUp(self):
        self.emulator.request("POST", "/_emulator/reset")
        self.auth = {"Authorization": support.token()}

    def call(self, method, path, body=None, **headers):
        data = None if body is None else json.dumps(body)
        return self.emulator.request(method, path + "?" + API, {**self.auth, **headers}, data)

    def query(self, text, size=None):
        headers = {"x-ms-max-item-count": str(size)} if size else {}
        status, response_headers, body = self.call("POST", "/devices/query", {"query": text},
                                                   **headers)
        return status, response_headers.get("x-ms-item-type"), body

    def test_get_device_and_module_twins(self):
        status, _, twin = self.call("GET", "/twins/device-001")
        self.assertEqual(status, 200)
        self.assertEqual((twin["etag"], twin["version"]), (twins.etag(2), 2))
        desired = twin["properties"]["desired"]
        self.assertEqual((desired["telemetryInterval"], desired["$version"]), (60, 1))
        self.assertEqual(desired["$metadata"]["telemetryInterval"]["$lastUpdatedVersion"], 1)
        self.assertIn("$lastUpdated", twin["properties"]["reported"]["$metadata"]["fw"])
        status, _, module = self.call("GET", "/twins/device-001/modules/camera")
        self.assertEqual((status, module["deviceId"], module["moduleId"]),
                         (200, "device-001", "camera"))
        self.assertEqual(self.call("GET", "/twins/device-004/modules/camera")[1]
                         ["iothub-errorcode"], "ModuleNotFound")
        self.assertEqual(self.call("GET", "/twins/nobody/modules/camera")[1]
                         ["iothub-errorcode"], "DeviceNotFound")

    def test_patch_merges_deletes_and_checks_the_etag(self):
        _, _, before = self.call("GET", "/twins/device-002")
        patch = {"tags": {"site": "oslo", "floor": None},
                 "properties": {"desired": {"fw": {"version": "2.0"}, "telemetryInterval": None}}}
        status, _, twin = self.call("PATCH", "/twins/device-002", patch,
                                    **{"If-Match": '"{}"'.format(before["etag"])})
        self.assertEqual(status, 200, twin)
        self.assertEqual(twin["tags"], {"site": "oslo", "model": {"name": "tx-2"}})
        desired = twin["properties"]["desired"]
        self.assertEqual((desired["fw"], desired["$version"]), ({"version": "2.0"}, 2))
        self.assertNotIn("telemetryInterval", desired)
        self.assertNotIn("telemetryInterval", desired["$metadata"])
        self.assertEqual(desired["$metadata"]["fw"]["version"]["$lastUpdatedVersion"], 2)
        self.assertEqual(twin["version"], before["version"] + 1)
        self.assertNotEqual(twin["etag"], before["etag"])
        # the old etag is stale now: 412 in the service's error shape, twin unchanged
        status, headers, body = self.call("PATCH", "/twins/device-002", {"tags": {"x": 1}},
                                          **{"If-Match": '"{}"'.format(before["etag"])})
        self.assertEqual((status, headers["iothub-errorcode"]), (412, "PreconditionFailed"))
        self.assertTrue(body["Message"].startswith("ErrorCode:PreconditionFailed;"))
        self.assertNotIn("x", self.call("GET", "/twins/device-002")[2]["tags"])
        # "*" and no If-Match at all both force
        for headers in ({"If-Match": "*"}, {}):
            status, _, after = self.call("PATCH", "/twins/device-002", {"tags": {"x": 1}},
                                         **headers)
            self.assertEqual(status, 200)
        self.assertEqual(after["version"], before["version"] + 3)

    def test_put_replaces_tags_and_desired_but_not_reported(self):
        _, _, before = self.call("GET", "/twins/device-003/modules/sensor")
        status, _, twin = self.call("PUT", "/twins/device-003/modules/sensor",
                                    {"tags": {"only": True}, "properties": {"desired": {"b": 2}}},
                                    **{"If-Match": '"{}"'.format(before["etag"])})
        self.assertEqual(status, 200, twin)
        self.assertEqual(twin["tags"], {"only": True})
        self.assertEqual({k: v for k, v in twin["properties"]["desired"].items()
                          if not k.startswith("$")}, {"b": 2})
        self.assertEqual(twin["properties"]["desired"]["$version"], 2)
        self.assertEqual(twin["properties"]["reported"], before["properties"]["reported"])
        self.assertEqual(twin["version"], before["version"] + 1)
        status, _, _ = self.call("PUT", "/twins/device-003/modules/sensor", {"tags": {}},
                                 **{"If-Match": '"AAAAAAAAAAE="'})
        self.assertEqual(status, 412)

    def test_a_twin_read_and_sent_back_whole_replaces_tags_and_desired(self):
        _, _, twin = self.call("GET", "/twins/device-004")
        twin["tags"]["site"] = "oslo"
        twin["properties"]["desired"]["mode"] = "eco"
        twin["properties"]["reported"]["fw"] = {"version": "9"}   # ignored
        status, _, after = self.call("PUT", "/twins/device-004", twin,
                                     **{"If-Match": '"{}"'.format(twin["etag"])})
        self.assertEqual(status, 200, after)
        self.assertEqual((after["tags"]["site"], after["properties"]["desired"]["mode"]),
                         ("oslo", "eco"))
        self.assertEqual(after["properties"]["desired"]["telemetryInterval"], 60)
        self.assertEqual(after["properties"]["reported"]["fw"], {"version": "1.0.0"})
        self.assertEqual(after["version"], twin["version"] + 1)

    def test_bad_bodies_are_refused(self):
        for body in ([], {"tags": 3}, {"properties": {"reported": {"a": 1}}},
                     {"properties": {"desired": "x"}}, {}, {"properties": None}):
            with self.subTest(body=body):
                status, headers, _ = self.call("PATCH", "/twins/device-001", body)
                self.assertEqual((status, headers["iothub-errorcode"]), (400, "ArgumentInvalid"))
        self.assertEqual(self.call("GET", "/twins/device-001")[2]["version"], 2)

    def test_queries(self):
        status, item_type, rows = self.query(
            "SELECT deviceId, properties.reported.fw.version AS fw, tags.nope FROM devices "
            "WHERE tags.site = 'paris' AND tags.floor <= 2")
        self.assertEqual((status, item_type), (200, "raw"))
        self.assertEqual(rows[0], {"deviceId": "device-001", "fw": "1.0.0"})
        self.assertEqual(len(rows), 6)
        _, item_type, rows = self.query(
            "SELECT tags.site AS site, COUNT() AS n FROM devices GROUP BY tags.site")
        self.assertEqual((item_type, rows), ("raw", [{"site": "berlin", "n": 13},
                                                     {"site": "lyon", "n": 13},
                                                     {"site": "paris", "n": 14}]))
        self.assertEqual(self.query("SELECT COUNT() AS n FROM devices")[2], [{"n": 40}])
        self.assertEqual(self.query("select count() from devices where tags.site = 'x'")[2],
                         [{"$1": 0}])
        _, item_type, rows = self.query("SELECT * FROM devices.modules WHERE "
                                        "devices.modules.moduleId = 'sensor' AND "
                                        "properties.desired.rate > 10")
        self.assertEqual((item_type, [(r["deviceId"], r["moduleId"]) for r in rows]),
                         ("twin", [("device-002", "sensor"), ("device-003", "sensor")]))
        self.call("PATCH", "/twins/device-005", {"tags": {"ring": "a\\'b"}})
        _, item_type, rows = self.query(
            "SELECT * FROM devices WHERE IS_DEFINED(tags.ring) AND tags.ring = 'a\\\\\\'b'")
        self.assertEqual((item_type, [r["deviceId"] for r in rows]), ("twin", ["device-005"]))
        self.assertEqual(len(self.query("SELECT * FROM devices WHERE NOT IS_DEFINED(tags.ring)")
                             [2]), 39)

    def test_bad_queries_are_400(self):
        for text in ("SELECT TOP 1 * FROM devices", "SELECT * FROM devices ORDER BY deviceId",
                     "SELECT deviceId, COUNT() FROM devices", "SELECT * FROM devices.things"):
            with self.subTest(text=text):
                status, headers, body = self.call("POST", "/devices/query", {"query": text})
                self.assertEqual((status, headers["iothub-errorcode"]), (400, "ArgumentInvalid"))
                self.assertIn("Syntax error at position", body["Message"])


class RunTest(unittest.TestCase):
    def test_group_by_keeps_documents_without_the_field_apart(self):
        docs = [{"tags": {"a": 1}}, {"tags": {}}, {"tags": {"a": 1}}, {"tags": {"a": "1"}}]
        statement = query.parse_statement("SELECT tags.a, COUNT() AS n FROM devices GROUP BY tags.a")
        self.assertEqual(query.run(statement, docs), [{"n": 1}, {"a": "1", "n": 1},
                                                      {"a": 1, "n": 2}])

    def test_metadata_follows_patches(self):
        twin = twins.new_twin("d", "T0", desired={"a": {"b": 1}})
        twins.apply_patch(twin, {"properties": {"desired": {"a": {"c": 2}}}}, "T1")
        meta = twin["properties"]["desired"]["$metadata"]
        self.assertEqual(meta["a"]["b"], {"$lastUpdated": "T0", "$lastUpdatedVersion": 1})
        self.assertEqual(meta["a"]["c"], {"$lastUpdated": "T1", "$lastUpdatedVersion": 2})
        self.assertEqual((meta["$lastUpdated"], meta["a"]["$lastUpdated"]), ("T1", "T1"))


if __name__ == "__main__":
    unittest.main()
