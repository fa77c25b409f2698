import json
import re
import unittest

import support  # noqa: F401  (import path)
from iothub_emulator import errors

TRACKING = r"[0-9a-f]{32}-G:0-TimeStamp:\d\d/\d\d/\d{4} \d\d:\d\d:\d\d"


class ShapesTest(unittest.TestCase):
    def test_message_shape(self):
        body = errors.message_body("JobNotFound", "gone")
        self.assertEqual(body["Message"], "ErrorCode:JobNotFound;gone")
        self.assertRegex(body["ExceptionMessage"], "^Tracking ID:" + TRACKING + "$")

    def test_nested_shape(self):
        message = errors.nested_body("ThrottlingMaxActiveJobCountExceeded", "too many")["Message"]
        prefix = "ErrorCode:ThrottlingMaxActiveJobCountExceeded;Error: 429 "
        self.assertTrue(message.startswith(prefix))
        inner = json.loads(message[len(prefix):])
        self.assertEqual(inner["Message"],
                         "ErrorCode:ThrottlingMaxActiveJobCountExceeded;too many")

    def test_escaped_shape(self):
        inner = json.loads(errors.escaped_body("DeviceNotFound", "no d1")["Message"])
        self.assertEqual(inner["errorCode"], 404001)
        self.assertEqual(inner["message"], "no d1")

    def test_flat_shape(self):
        body = errors.flat_body("JobNotFound", "gone")
        self.assertEqual(body["errorCode"], 404002)
        self.assertRegex(body["trackingId"], "^" + TRACKING + "$")
        self.assertTrue(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{7}Z",
                                     body["timestampUtc"]))

    def test_status_comes_from_the_code(self):
        self.assertEqual(errors.ServiceError("ServiceUnavailable", "x").status, 503)
        self.assertEqual(errors.http_status("ArgumentInvalid"), 400)


if __name__ == "__main__":
    unittest.main()
