import json
import os
import re
import unittest

import support  # noqa: F401  (import path)
from iothub_emulator import fixtures

README = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "README.md")


class ReadmeTest(unittest.TestCase):
    def test_documents_the_fixtures_exactly(self):
        with open(README, encoding="utf-8") as f:
            text = f.read()
        documented = {}
        for heading, block in re.findall(r"^### (\S+)\n```json\n(.*?)```", text, re.M | re.S):
            documented[heading] = json.loads(block)
        self.assertEqual(documented, {job["jobId"]: job for job in (
            fixtures.TWIN_1, fixtures.METHOD_1, fixtures.METHOD_FALSY, fixtures.FAILED_1)})


if __name__ == "__main__":
    unittest.main()
