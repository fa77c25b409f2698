"""Paging shared by /jobs/v2/query and /devices/query.

Page size comes from ``x-ms-max-item-count``; the next page is asked for with
``x-ms-continuation``. A continuation token is opaque to clients: urlsafe
base64 of a small JSON object holding the offset of the next item and the
query it belongs to (filters or query text), so a token can only continue the
query that produced it.
"""

import base64
import binascii
import json

DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 1000


def parse_page_size(value):
    """The page size asked by ``x-ms-max-item-count``, clamped to 1..1000."""
    if value is None:
        return DEFAULT_PAGE_SIZE
    size = int(value.strip())  # ValueError for anything but an integer
    return min(max(size, 1), MAX_PAGE_SIZE)


def encode_token(offset, filters):
    data = json.dumps({"offset": offset, "filters": filters}, sort_keys=True,
                      separators=(",", ":"))
    return base64.urlsafe_b64encode(data.encode("utf-8")).decode("ascii")


def decode_token(token, filters):
    """The offset a token stands for; ValueError if it is not one of ours for ``filters``."""
    try:
        data = json.loads(base64.urlsafe_b64decode(token.encode("ascii")))
    except (binascii.Error, UnicodeError, ValueError):
        raise ValueError("undecodable continuation token") from None
    if not isinstance(data, dict) or data.get("filters") != filters:
        raise ValueError("continuation token belongs to another query")
    offset = data.get("offset")
    if type(offset) is not int or offset < 0:
        raise ValueError("bad offset in continuation token")
    return offset


def page_of(fetch, filters, size, token=None):
    """One page: (items, continuation token or None on the last page).

    ``fetch(start, stop)`` returns (the items [start:stop] of the query, total)."""
    offset = decode_token(token, filters) if token else 0
    end = offset + size
    items, total = fetch(offset, end)
    return items, (encode_token(end, filters) if end < total else None)


def page_list(items, filters, size, token=None):
    """One page of an already computed, ordered list."""
    return page_of(lambda start, stop: (items[start:stop], len(items)), filters, size, token)
