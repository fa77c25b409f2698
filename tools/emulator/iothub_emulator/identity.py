"""The emulated hub's identity: its host name and its shared access policies.

These keys are test keys, published in the repository on purpose. They are
defined here and nowhere else.
"""

HOST_NAME = "lua-iothub-test.azure-devices.net"

POLICY_KEYS = {
    "iothubowner": "uG99hvDUZo6nYJHx7gtqZetV5BUJLWCIJgyg288XYPo=",
    "service": "rBHgF8aknp97fqUgbugECApE/fg7znjXW6eeCfSm0mA=",
    "registryRead": "ZM0mLLVf1T+Wk4PeQ1/UOoExwRrmc1hgwEMIADjFg4w=",
}


def connection_string(policy):
    return "HostName={};SharedAccessKeyName={};SharedAccessKey={}".format(
        HOST_NAME, policy, POLICY_KEYS[policy])


def connection_strings():
    return {policy: connection_string(policy) for policy in POLICY_KEYS}
