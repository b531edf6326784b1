"""Which other sites may use a form: the hosts in its `allowed_domains` (one per line, as the
builder stores them: lower-case ASCII, IDN encoded). They may post to it from the browser
(CORS), and its thank-you redirect may go to them."""

from __future__ import annotations

import ipaddress
import re
from urllib.parse import urlsplit

from .models import Form

_HOST = re.compile(r"^[a-z0-9](?:[a-z0-9.-]{0,251}[a-z0-9])?$")


def host_normal(text: str) -> str:
    """A host name in lower-case ASCII (IDN encoded), "" when it is not one."""
    host = text.strip().rstrip(".").lower()
    try:
        return str(ipaddress.ip_address(host.strip("[]")))  # as the builder stores addresses
    except ValueError:
        pass
    try:
        host = host.encode("idna").decode("ascii")
    except UnicodeError:
        return ""
    return host if _HOST.match(host) else ""


def allowed_hosts(form: Form) -> list[str]:
    hosts = []
    for line in form.allowed_domains.splitlines():
        if "://" in line:
            try:
                line = urlsplit(line.strip()).hostname or ""
            except ValueError:
                continue
        if (host := host_normal(line)) and host not in hosts:
            hosts.append(host)
    return hosts


def origin_host(origin: str) -> str:
    """The host of an Origin header value (`https://www.example.com:8443` -> www.example.com);
    "" for `null` and anything that is not a scheme://host[:port] origin."""
    if not origin or origin == "null":
        return ""
    try:
        parts = urlsplit(origin)
        host = parts.hostname or ""
        parts.port  # noqa: B018 -- raises ValueError for a port that is not a number
    except ValueError:
        return ""
    if parts.scheme not in {"http", "https"} or parts.path or parts.query or not host:
        return ""
    return host_normal(host)


def origin_allowed(form: Form, origin: str) -> bool:
    host = origin_host(origin)
    return bool(host) and host in allowed_hosts(form)


def redirect_target(form: Form) -> str:
    """The form's redirect_url when its host is an allowed domain, else ""."""
    url = form.redirect_url.strip()
    if not url:
        return ""
    try:
        parts = urlsplit(url)
    except ValueError:
        return ""
    if parts.scheme not in {"http", "https"} or parts.username or parts.password:
        return ""
    host = host_normal(parts.hostname or "")
    return url if host and host in allowed_hosts(form) else ""
