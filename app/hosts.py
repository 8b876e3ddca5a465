"""This machine's own addresses, and whether a request's Host header names one of them.

`/api/join` turns an address into a QR code for students to scan. The Host header is chosen
by the client, so it is never drawn as sent: it must be a well-formed host[:port] naming this
server (an address of this machine or its own name) on the port the request arrived at. A
2,300-character Host used to cost ~300 ms of CPU per request on the event loop, and 2,324
characters a 500 (segno's DataOverflowError); now it is a 400 before anything is drawn.
"""
from __future__ import annotations

import ipaddress
import re
import socket
import time

# RFC 1035: a name is at most 253 characters; add brackets, a colon and five port digits.
MAX_HOST_CHARS = 253 + 8
_HOST = re.compile(r"(?:\[(?P<v6>[0-9A-Fa-f:.]+)\]|(?P<name>[A-Za-z0-9._-]+))"
                   r"(?::(?P<port>[0-9]{1,5}))?")
_REFRESH_S = 5.0      # interfaces change (a laptop joins the Wi-Fi); look again at most this often


class HostRefused(Exception):
    def __init__(self, status: int, detail: str):
        super().__init__(detail)
        self.status, self.detail = status, detail


def lan_ipv4() -> list[str]:
    """Every non-loopback IPv4 address of this machine, in interface order."""
    addrs: list[str] = []
    try:
        import fcntl
        import struct
        probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            for _, name in socket.if_nameindex():
                try:
                    # SIOCGIFADDR: the interface's IPv4 address (Linux; stdlib only).
                    raw = fcntl.ioctl(probe.fileno(), 0x8915,
                                      struct.pack("256s", name[:15].encode()))
                except OSError:
                    continue
                addrs.append(socket.inet_ntoa(raw[20:24]))
        finally:
            probe.close()
    except (ImportError, OSError):
        pass
    if not [a for a in addrs if not a.startswith("127.")]:
        # Elsewhere: the source address of the default route (connect() on UDP sends nothing).
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            try:
                s.connect(("10.255.255.255", 1))
                addrs.append(s.getsockname()[0])
            except OSError:
                pass
    return list(dict.fromkeys(a for a in addrs if not a.startswith("127.")))


class OwnAddresses:
    """Names and IP addresses this machine answers to, re-read when a Host is not among them."""

    def __init__(self):
        self._known: set[str] = set()
        self._read_at = -_REFRESH_S

    def _read(self) -> None:
        hostname = socket.gethostname().lower()
        names = {"localhost", "127.0.0.1", "::1", hostname, f"{hostname}.local"}
        names.update(lan_ipv4())
        self._known = names
        self._read_at = time.monotonic()

    def __contains__(self, name: str) -> bool:
        if name in self._known:
            return True
        if time.monotonic() - self._read_at >= _REFRESH_S:
            self._read()
        return name in self._known


OWN = OwnAddresses()


def _same_ip(a: str, b: str) -> bool:
    try:
        return ipaddress.ip_address(a) == ipaddress.ip_address(b)
    except ValueError:
        return a == b


def page_url(host: str | None, scheme: str, server: tuple[str, int] | None) -> str:
    """The URL of this page as the client reached it, if Host names this server; else
    HostRefused (400 malformed, 421 another server's name or port)."""
    default_port = 443 if scheme == "https" else 80
    local_ip, local_port = server if server else (None, None)
    if not host:                     # HTTP/1.0 sends none: the address the socket has
        if local_ip is None:
            raise HostRefused(400, "the request has no Host header; send the address you "
                                   "opened, e.g. Host: 192.168.1.20:8000")
        host = f"[{local_ip}]" if ":" in local_ip else local_ip
        if local_port not in (None, default_port):
            host += f":{local_port}"
    shown = host if len(host) <= 60 else f"{host[:40]}… ({len(host)} characters)"
    match = _HOST.fullmatch(host) if len(host) <= MAX_HOST_CHARS else None
    if match is None:
        raise HostRefused(400, f"the Host header {shown!r} is not a host[:port] of at most "
                               f"{MAX_HOST_CHARS} characters, e.g. 192.168.1.20:8000")
    name = (match["v6"] or match["name"]).lower().rstrip(".")
    port = int(match["port"]) if match["port"] else default_port
    ours = (local_ip is not None and _same_ip(name, local_ip)) or name in OWN
    if not ours or (local_port is not None and port != local_port):
        where = f"{local_ip}:{local_port}" if local_ip else "this server's address"
        raise HostRefused(421, f"the Host header {shown!r} does not name this server; open "
                               f"the page at {where} (or start `convscope serve --classroom`, "
                               "which lists its network addresses)")
    return f"{scheme}://{host.lower()}/"
