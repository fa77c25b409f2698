"""The emulated hub's identities: its host name and shared access policies
(service API), and the Azure AD tenant, app registration, subscription,
resource and managed identity of the management plane (ARM).

These keys and secrets are test values, published in the repository on
purpose. They are defined here and nowhere else.
"""

HOST_NAME = "lua-iothub-test.azure-devices.net"

POLICY_KEYS = {
    "iothubowner": "uG99hvDUZo6nYJHx7gtqZetV5BUJLWCIJgyg288XYPo=",
    "service": "rBHgF8aknp97fqUgbugECApE/fg7znjXW6eeCfSm0mA=",
    "registryRead": "ZM0mLLVf1T+Wk4PeQ1/UOoExwRrmc1hgwEMIADjFg4w=",
}

# -- Azure AD (Entra ID) and Azure Resource Manager --------------------------
TENANT_ID = "2f62334d-293e-4c22-af2c-45193a132c3b"
CLIENT_ID = "8a43d32d-9811-4a6e-b5c8-39b048b5e698"          # a service principal
CLIENT_SECRET = "2ql~B4fK6Nz68GqXb.MXyB9BwKWEn_UOh3O~z0D8"  # its client secret
SUBSCRIPTION_ID = "dabe23bc-d063-4df7-ae63-5dfd46f2eba0"
RESOURCE_GROUP = "lua-iothub-rg"
HUB_NAME = "lua-iothub-test"                                 # the IotHubs resource
MANAGED_IDENTITY_CLIENT_ID = "ee938ce0-b4d3-46cd-8eb9-5b91cdcc7c2f"
IDENTITY_HEADER = "M-KJD-ppCMhAO9wceM6lIvZ1ecRZ0A8g"         # App Service X-IDENTITY-HEADER


def connection_string(policy):
    return "HostName={};SharedAccessKeyName={};SharedAccessKey={}".format(
        HOST_NAME, policy, POLICY_KEYS[policy])


def connection_strings():
    return {policy: connection_string(policy) for policy in POLICY_KEYS}


def management():
    """The management plane identities, as the ready file lists them."""
    return {"tenant_id": TENANT_ID, "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET,
            "subscription_id": SUBSCRIPTION_ID, "resource_group": RESOURCE_GROUP,
            "hub_name": HUB_NAME, "managed_identity_client_id": MANAGED_IDENTITY_CLIENT_ID,
            "identity_header": IDENTITY_HEADER}
