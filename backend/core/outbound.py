"""Where the platform may send requests on someone's behalf (a department's status callback): the URL policy.

A department registers a URL and the worker later POSTs to it from inside the county's network. Without a
policy that is a way into the network (server-side request forgery): `http://127.0.0.1:5432/`, the cloud
metadata address, a neighbour on the private network. So a URL must be:

- `https://` (plain `http://` only where the policy allows it: development settings), with a host, no user
  name or password in it, at most `MAX_URL_LENGTH` characters;
- for a host that resolves only to public addresses: loopback, private, shared (carrier-grade NAT),
  link-local (and so the metadata address), multicast, reserved and unspecified addresses are refused,
  unless they lie in a network the operator allowed (`CALLBACK_ALLOWED_NETWORKS`, e.g. a county's
  e-government network where the department servers live).

`safe_outbound_url` checks a URL when it is registered (a refusal is a 422 at the field) and again at every
delivery. At delivery the request goes to the address that was just checked (`PinnedUrl`), with the host name
kept for the Host header and TLS (SNI and certificate), so a name that resolved to a public address at the check
and to 127.0.0.1 a moment later (DNS rebinding) gains nothing. The resolver is a parameter so a test can play the
rebinding name server.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Annotated
from urllib.parse import SplitResult, urlsplit, urlunsplit

from backend.config import Environment, Settings
from backend.core.errors import FieldError, InvalidInput
from backend.core.input import Code

MAX_URL_LENGTH = 500
# The schema's first filter: a scheme, then no white space or control characters. The rest is `safe_outbound_url`.
OutboundUrl = Annotated[str, Code(r"^[Hh][Tt][Tt][Pp][Ss]?://[^\s\x00-\x1f\x7f-\x9f]{1,490}$", MAX_URL_LENGTH)]

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
Resolver = Callable[[str, int], Awaitable[list[str]]]

# Addresses that are not "somewhere on the internet" beyond what the ipaddress flags say.
_SHARED = ipaddress.ip_network("100.64.0.0/10")  # carrier-grade NAT (RFC 6598)


@dataclass(frozen=True, slots=True)
class OutboundPolicy:
    """What the process may call: `allow_http` (development) and networks allowed despite being internal."""

    allow_http: bool = False
    allowed_networks: tuple[IPNetwork, ...] = field(default_factory=tuple)

    @classmethod
    def of(cls, *, allow_http: bool, allowed_networks: Iterable[str]) -> OutboundPolicy:
        return cls(allow_http, tuple(ipaddress.ip_network(network, strict=False) for network in allowed_networks))

    @classmethod
    def from_settings(cls, settings: Settings) -> OutboundPolicy:
        """Plain http in development only; the operator's allowed networks (`CALLBACK_ALLOWED_NETWORKS`)."""
        return cls.of(
            allow_http=settings.environment == Environment.development,
            allowed_networks=settings.callback_allowed_networks,
        )


class UnsafeOutboundUrl(InvalidInput):
    """A URL the platform will not call; at registration a 422 at the field, at delivery the attempt's error."""

    def __init__(self, field_name: str, reason: str) -> None:
        super().__init__("回调地址不可用 / The callback URL is refused", [FieldError(("body", field_name), reason)])
        self.reason = reason


@dataclass(frozen=True, slots=True)
class PinnedUrl:
    """A checked URL and the address to connect to: send to `url` with `headers` and `extensions`."""

    url: str
    host: str
    address: str
    headers: dict[str, str]
    extensions: dict[str, str]


async def system_resolver(host: str, port: int) -> list[str]:
    """The addresses the host name resolves to (every family), by the system's resolver."""
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [str(info[4][0]) for info in infos]


def _internal(address: IPAddress) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return _internal(address.ipv4_mapped)
    return (
        address.is_private
        or address.is_loopback
        or address.is_link_local
        or address.is_multicast
        or address.is_reserved
        or address.is_unspecified
        or (address.version == 4 and address in _SHARED)
        or not address.is_global
    )


def _refuse(field_name: str, chinese: str, english: str) -> UnsafeOutboundUrl:
    return UnsafeOutboundUrl(field_name, f"{chinese} / {english}")


def _parts(url: str, policy: OutboundPolicy, field_name: str) -> tuple[SplitResult, str, int]:
    if len(url) > MAX_URL_LENGTH:
        raise _refuse(field_name, f"地址过长（最多{MAX_URL_LENGTH}个字符）", f"at most {MAX_URL_LENGTH} characters")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise _refuse(field_name, "地址格式不正确", "not a valid URL") from None
    scheme = parts.scheme.lower()
    if scheme != "https" and not (scheme == "http" and policy.allow_http):
        raise _refuse(field_name, "回调地址须以 https:// 开头", "the URL must start with https://")
    if parts.username is not None or parts.password is not None:
        raise _refuse(field_name, "地址中不能包含用户名或密码", "no user name or password in the URL")
    host = parts.hostname
    if not host:
        raise _refuse(field_name, "地址缺少主机名", "the URL has no host")
    return parts, host, port or (443 if scheme == "https" else 80)


def _allowed(address: IPAddress, policy: OutboundPolicy) -> bool:
    return not _internal(address) or any(address in network for network in policy.allowed_networks)


async def safe_outbound_url(
    url: str, policy: OutboundPolicy | None = None, *, field_name: str = "url", resolve: Resolver | None = None
) -> PinnedUrl:
    """Check `url` against the policy (default: the process's) and resolve its host (default: the process's
    resolver): the URL pinned to an address that passed, or `UnsafeOutboundUrl` naming the reason. Every address
    of the name must pass, not just one."""
    policy = policy or outbound_policy()
    resolve = resolve or _installed.resolver or system_resolver
    parts, host, port = _parts(url, policy, field_name)
    try:
        addresses = [ipaddress.ip_address(host)]
    except ValueError:
        try:
            resolved = await resolve(host, port)
        except (OSError, UnicodeError):
            resolved = []
        addresses = [ipaddress.ip_address(address.split("%", 1)[0]) for address in resolved]
        if not addresses:
            raise _refuse(field_name, "主机名无法解析", "the host name does not resolve") from None
    refused = [address for address in addresses if not _allowed(address, policy)]
    if refused:
        raise _refuse(
            field_name,
            f"不能指向内部地址（{refused[0]}：本机、内网、链路本地、组播或保留地址）",
            f"the host is an internal address ({refused[0]}: loopback, private, link-local, multicast or reserved)",
        )
    address = addresses[0]
    literal = f"[{address}]" if address.version == 6 else str(address)
    netloc = literal if parts.port is None else f"{literal}:{parts.port}"
    pinned = urlunsplit((parts.scheme.lower(), netloc, parts.path or "/", parts.query, ""))
    named = f"[{host}]" if ":" in host else host
    host_header = named if parts.port is None else f"{named}:{parts.port}"
    extensions = {"sni_hostname": host} if parts.scheme.lower() == "https" else {}
    return PinnedUrl(pinned, host, str(address), {"Host": host_header}, extensions)


@dataclass
class _Installed:
    policy: OutboundPolicy | None = None
    resolver: Resolver | None = None


_installed = _Installed()


def install_outbound_policy(policy: OutboundPolicy | None, *, resolver: Resolver | None = None) -> None:
    """The policy of this process (the API's and the worker's from their settings; None: the strict default), and
    the resolver (None: the system's; a test plays the name server that changes its answer)."""
    _installed.policy = policy
    _installed.resolver = resolver


def outbound_policy() -> OutboundPolicy:
    """The installed policy, or the strict one: https only, public addresses only."""
    return _installed.policy or OutboundPolicy()
