"""The user the authenticating proxy signed in, as the review desk may take it.

The proxy (deploy/proxy/) answers every request without a valid login itself and, for the
ones it passes on, sets `X-Pix-Proxy-User` to the signed-in user name, replacing whatever a
client sent under that name. A desk that trusts the header (PIX_DESK_TRUST_PROXY_USER, see
`pix_pipeline.settings.desk_trusts_proxy_user`) then needs no login of its own: Daniel signs in
once, at the proxy.

Plain ASGI, no web framework: the desk's authentication layer calls `proxy_user(scope, ...)`
for each request before it looks at its own session.
"""

import re
from collections.abc import Mapping
from typing import Any

from pix_pipeline.settings import is_loopback

PROXY_USER_HEADER = "X-Pix-Proxy-User"
# What htpasswd user names look like in practice; anything else is not a name we vouch for.
USER_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@-]{0,63}")


def proxy_user(scope: Mapping[str, Any], *, trusted: bool) -> str | None:
    """The proxy's signed-in user for this ASGI HTTP request, or None: then the desk asks for
    its own login.

    A name counts only when the desk trusts the proxy, the request arrived on a loopback
    address of the desk (so only a process on this machine, the proxy, could send it), and it
    carries exactly one well-formed header. The desk's own address is checked, not the
    client's: uvicorn replaces the client with the proxy's X-Forwarded-For address.
    """
    if not trusted:
        return None
    server = scope.get("server")
    if not server or not is_loopback(str(server[0])):
        return None
    wanted = PROXY_USER_HEADER.lower().encode("latin-1")
    values = [value for name, value in scope.get("headers", []) if name.lower() == wanted]
    if len(values) != 1:
        return None
    name = bytes(values[0]).decode("latin-1").strip()
    return name if USER_NAME.fullmatch(name) else None
