import unittest

import support  # noqa: F401  (import path)
from iothub_emulator import sas

KEY = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="
HOST = "MyHub.azure-devices.net"
SIG = "j9/N/sPiJlkC/7nIINpWJpWMVbtMg6opUHau+8dy178="
SIG_LOWERCASE_HOST = "ws28/Tfy4KnTGirjZW2aBZxnLbc3m5Z7MCzLTluuxpY="
TOKEN = ("SharedAccessSignature sr=MyHub.azure-devices.net"
         "&sig=j9%2FN%2FsPiJlkC%2F7nIINpWJpWMVbtMg6opUHau%2B8dy178%3D"
         "&se=1700000001&skn=iothubowner")
POLICIES = {"iothubowner": KEY}


class SignTest(unittest.TestCase):
    def test_wire_protocol_vector(self):
        self.assertEqual(sas.sign(KEY, HOST, "1700000001"), SIG)
        self.assertEqual(sas.sign(KEY, HOST.lower(), "1700000001"), SIG_LOWERCASE_HOST)

    def test_sdk_vector(self):
        self.assertEqual(sas.sign("cGFzc3dvcmQ=", "uri", "12345"),
                         "kcWxXAK2OAaAoq2oCkaGzX2NMqDB8nCyNuq2fPYCDhk=")


class ValidateTest(unittest.TestCase):
    def validate(self, header, now=1700000000):
        return sas.validate(header, "myhub.azure-devices.net", POLICIES, now=now)

    def test_accepts_the_vector_token(self):
        self.assertEqual(self.validate(TOKEN), "iothubowner")

    def test_accepts_fields_in_any_order(self):
        fields = TOKEN.split(" ", 1)[1].split("&")
        self.assertEqual(self.validate("SharedAccessSignature " + "&".join(reversed(fields))),
                         "iothubowner")

    def test_accepts_a_host_lowercased_before_signing(self):
        token = ("SharedAccessSignature sr=myhub.azure-devices.net&sig={}&se=1700000001"
                 "&skn=iothubowner").format(SIG_LOWERCASE_HOST)
        self.assertEqual(self.validate(token), "iothubowner")

    def test_accepts_a_resource_path_under_the_host(self):
        sr = "myhub.azure-devices.net%2Fjobs"
        token = "SharedAccessSignature sr={}&sig={}&se=1700000001&skn=iothubowner".format(
            sr, sas.sign(KEY, sr, "1700000001"))
        self.assertEqual(self.validate(token), "iothubowner")

    def test_refusals(self):
        bad = {
            "expired": (TOKEN, 1700000002),
            "wrong signature": (TOKEN.replace("j9%2FN", "j8%2FN"), 0),
            "unknown policy": (TOKEN.replace("skn=iothubowner", "skn=other"), 0),
            "other host": (TOKEN.replace("sr=MyHub", "sr=Other"), 0),
            "not SAS": ("Bearer abc", 0),
            "missing field": (TOKEN.replace("&se=1700000001", ""), 0),
            "non-integer se": (TOKEN.replace("se=1700000001", "se=17e8"), 0),
            "empty": ("", 0),
        }
        for name, (header, now) in bad.items():
            with self.subTest(name), self.assertRaises(sas.InvalidToken):
                self.validate(header, now=now)

    def test_summary_drops_the_signature(self):
        self.assertEqual(sas.summary(TOKEN), {"scheme": "SharedAccessSignature",
                                              "skn": "iothubowner", "sr": HOST,
                                              "se": "1700000001"})


if __name__ == "__main__":
    unittest.main()
