import unittest

import support  # noqa: F401  (import path)
from iothub_emulator import query
from iothub_emulator.devices import seeded_devices

TWIN = {"deviceId": "d1", "status": "enabled", "connectionState": "Connected",
        "tags": {"site": "paris", "floor": 3, "owner": "O'Brien", "model": {"name": "tx-1"},
                 "flag": True, "gone": None},
        "properties": {"desired": {"telemetryInterval": 60},
                       "reported": {"fw": {"version": "1.0.0"}, "temp": 21.5}}}


def where(condition, twin=TWIN):
    return query.matches(query.parse_condition(condition), query.twin_resolver(twin))


class ConditionTest(unittest.TestCase):
    def test_comparisons(self):
        for condition, expected in [
            ("tags.site = 'paris'", True), ("tags.site != 'paris'", False),
            ("tags.site <> 'lyon'", True), ("tags.floor > 2", True),
            ("tags.floor >= 3", True), ("tags.floor < 3", False), ("tags.floor <= 3", True),
            ("properties.reported.temp > 21", True), ("properties.reported.temp = 21.5", True),
            ("properties.reported.fw.version < '2.1.0'", True),
            ("tags.model.name = 'tx-1'", True), ("properties.desired.telemetryInterval = 60", True),
            ("deviceId = 'd1'", True), ("status = 'enabled'", True),
            ("connectionState = 'Connected'", True), ("tags.flag = true", True),
            ("tags.flag = false", False), ("tags.gone = null", True),
            ("tags.owner = 'O''Brien'", True), ("tags.floor = -3", False),
            ("tags.floor = 3.0", True), ("tags.floor = '3'", False),
        ]:
            with self.subTest(condition=condition):
                self.assertEqual(where(condition), expected)

    def test_string_escapes(self):
        twin = {"tags": {"name": "it's a \"job\" \\ é"}}
        for literal in (r"'it\'s a \"job\" \\ é'", r"'it''s a \"job\" \\ \u00e9'",
                        r'"it\'s a \"job\" \\ é"', r'"it\u0027s a \"job\" \\ é"'):
            with self.subTest(literal=literal):
                self.assertTrue(where("tags.name = " + literal, twin))
        with self.assertRaises(query.QuerySyntaxError) as caught:
            query.parse_condition(r"tags.name = 'a\qb'")
        self.assertEqual(caught.exception.position, 15)

    def test_star_alone_is_everything(self):
        self.assertTrue(where("*"))
        self.assertTrue(where(" * "))
        with self.assertRaises(query.QuerySyntaxError):
            query.parse_condition("* AND deviceId = 'd1'")

    def test_missing_fields_are_unequal_to_everything(self):
        for condition, expected in [
            ("tags.nope = 'x'", False), ("tags.nope != 'x'", True), ("tags.nope <> null", True),
            ("tags.nope = null", False), ("tags.nope > 1", False), ("tags.nope <= 1", False),
            ("tags.nope IN ['x']", False), ("tags.nope NOT IN ['x']", True),
            ("tags.site.deeper = 'x'", False),
        ]:
            with self.subTest(condition=condition):
                self.assertEqual(where(condition), expected)

    def test_in_and_logic(self):
        for condition, expected in [
            ("deviceId IN ['d1', 'd2']", True), ("deviceId IN ['d2']", False),
            ("deviceId NOT IN ['d2','d3']", True), ("tags.floor IN [1, 2, 3]", True),
            ("tags.site = 'paris' AND tags.floor = 4", False),
            ("tags.site = 'lyon' OR tags.floor = 3", True),
            ("NOT tags.site = 'lyon'", True), ("NOT (tags.site = 'paris' OR tags.floor = 1)", False),
            ("tags.site = 'lyon' OR tags.site = 'paris' AND tags.floor = 1", False),
            ("(tags.site = 'lyon' OR tags.site = 'paris') AND tags.floor = 3", True),
            ("tags.site = 'x' and tags.floor = 3 or deviceId = 'd1'", True),
            ("not not deviceId = 'd1'", True),
        ]:
            with self.subTest(condition=condition):
                self.assertEqual(where(condition), expected)

    def test_syntax_errors_name_the_position(self):
        for condition, position in [
            ("tags.site = ", 13), ("tags.site 'paris'", 11), ("= 3", 1),
            ("tags.site = 'paris", 13), ("tags.site = 'a' AND", 20),
            ("(tags.site = 'a'", 17), ("deviceId IN 'a'", 13), ("deviceId IN ['a',]", 18),
            ("tags.site = 'a' tags.floor = 1", 17), ("tags.site == 'a'", 12),
            ("tags.site = paris", 13), ("", 1), ("tags.site ~ 1", 11),
        ]:
            with self.subTest(condition=condition):
                with self.assertRaises(query.QuerySyntaxError) as caught:
                    query.parse_condition(condition)
                self.assertEqual(caught.exception.position, position)
                self.assertIn("position {}".format(position), str(caught.exception))


class StatementTest(unittest.TestCase):
    def test_sources_and_where(self):
        self.assertEqual(query.parse_statement("SELECT * FROM devices"),
                         query.Statement("devices", ("true",)))
        statement = query.parse_statement(
            "select * from DEVICES.JOBS where devices.jobs.jobId = 'j' and status = 'failed'")
        source, tree = statement.source, statement.tree
        self.assertEqual((source, statement.item_type), ("devices.jobs", "deviceJob"))
        row = {"jobId": "j", "status": "failed", "deviceId": "d"}
        self.assertTrue(query.matches(tree, query.device_job_resolver(row)))
        self.assertFalse(query.matches(tree, query.device_job_resolver({**row, "jobId": "k"})))

    def test_unsupported_statements(self):
        for text in ("SELECT * FROM modules", "SELECT TOP 3 * FROM devices",
                     "SELECT * devices", "SELECT * FROM devices WHERE", "DELETE FROM devices",
                     "SELECT deviceId, COUNT() AS n FROM devices",
                     "SELECT deviceId, COUNT() AS n FROM devices GROUP BY tags.site",
                     "SELECT * FROM devices GROUP BY tags.site", "SELECT COUNT(*) FROM devices",
                     "SELECT deviceId AS FROM devices", "SELECT deviceId, FROM devices",
                     "SELECT * FROM devices WHERE IS_DEFINED(tags.x", "SELECT * FROM devices ORDER BY deviceId",
                     "SELECT * FROM devices WHERE STARTSWITH(deviceId, 'a')",
                     "SELECT * FROM devices GROUP tags.site"):
            with self.subTest(text=text), self.assertRaises(query.QuerySyntaxError):
                query.parse_statement(text)


class FleetTest(unittest.TestCase):
    def test_fleet_queries(self):
        fleet = seeded_devices()

        def count(condition):
            tree = query.parse_condition(condition)
            return sum(query.matches(tree, query.twin_resolver(d["twin"])) for d in fleet.values())

        self.assertEqual(len(fleet), 40)
        self.assertEqual(count("tags.site = 'paris'"), 14)
        self.assertEqual(count("tags.site IN ['lyon', 'berlin']"), 26)
        self.assertEqual(count("connectionState = 'Disconnected'"), 4)
        self.assertEqual(count("tags.model.name = 'tx-2'"), 20)
        self.assertEqual(count("properties.reported.fw.version = '1.0.0'"), 40)


if __name__ == "__main__":
    unittest.main()
