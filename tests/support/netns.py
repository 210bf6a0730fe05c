"""Hosts as network namespaces on one private Ethernet segment, for multi-host tests (root only).

`Network()` makes a switch: a namespace holding a bridge. `add_host(name)` makes a namespace
plugged into it with an address of the segment (and its own loopback, so every host has its
own port space). The test process gets an address on the segment too, as an operator's
machine would. `cut(host)` unplugs a host (its switch port down: its packets go nowhere and
no connection is reset, as when a cable or a switch fails); `close()` kills every process left
in the namespaces and deletes them. Nothing outside the namespaces is touched but one veth.
"""

from __future__ import annotations

import ipaddress
import os
import shutil
import signal
import subprocess
from dataclasses import dataclass

from tests.support.waiting import wait_for


def unavailable() -> str | None:
    """Why namespaces cannot be made here (None: they can)."""
    if os.geteuid() != 0:
        return "needs root to create network namespaces (ip netns add): run as root"
    if shutil.which("ip") is None:
        return "needs iproute2's `ip` command (apt-get install iproute2)"
    return None


def ip(*args: str) -> str:
    """Run `ip args`; return its output (RuntimeError with ip's message when it fails)."""
    done = subprocess.run(["ip", *args], capture_output=True, text=True, timeout=20)
    if done.returncode != 0:
        raise RuntimeError(f"ip {' '.join(args)}: {done.stderr.strip()}")
    return done.stdout


def free_subnet() -> ipaddress.IPv4Network:
    """A /24 of 10.213.0.0/16 that no interface or route of this host uses."""
    used = ip("-4", "-o", "addr") + ip("-4", "route")
    start = os.getpid() % 250
    for i in range(250):
        net = ipaddress.IPv4Network(f"10.213.{(start + i) % 250}.0/24")
        if f"10.213.{(start + i) % 250}." not in used:
            return net
    raise RuntimeError("no free /24 in 10.213.0.0/16")


@dataclass(frozen=True)
class Host:
    """One namespace on the segment: its name, its address, its switch port."""

    name: str
    ns: str
    address: str
    port: str

    @property
    def prefix(self) -> list[str]:
        """The words that run a command on this host."""
        return ["ip", "netns", "exec", self.ns]


class Network:
    """A switch namespace with a bridge; hosts and the test process plugged into it."""

    def __init__(self) -> None:
        self.tag = f"en{os.getpid() % 100000}"
        self.switch = f"{self.tag}-switch"
        self.hosts: dict[str, Host] = {}
        self._namespaces: list[str] = []
        self._root_link = f"{self.tag}r"
        self._addresses = iter(free_subnet().hosts())
        try:
            self._add_namespace(self.switch)
            ip("-n", self.switch, "link", "add", "br0", "type", "bridge")
            ip("-n", self.switch, "link", "set", "br0", "up")
            self.local_address = next(self._addresses).exploded
            self._plug(self._root_link, "root")
            ip("addr", "add", f"{self.local_address}/24", "dev", self._root_link)
            ip("link", "set", self._root_link, "up")
        except BaseException:
            self.close()
            raise

    def _add_namespace(self, ns: str) -> None:
        ip("netns", "add", ns)
        self._namespaces.append(ns)
        ip("-n", ns, "link", "set", "lo", "up")

    def _plug(self, link: str, port: str) -> None:
        """A veth pair: `link` here, `port` on the switch's bridge."""
        ip("link", "add", link, "type", "veth", "peer", "name", port, "netns", self.switch)
        ip("-n", self.switch, "link", "set", port, "master", "br0", "up")

    def add_host(self, name: str) -> Host:
        """A new host on the segment, with the next address."""
        ns, link, port = f"{self.tag}-{name}", f"{self.tag}{len(self.hosts)}", f"p-{name}"
        self._add_namespace(ns)
        self._plug(link, port)
        ip("link", "set", link, "netns", ns)
        host = Host(name, ns, next(self._addresses).exploded, port)
        ip("-n", ns, "addr", "add", f"{host.address}/24", "dev", link)
        ip("-n", ns, "link", "set", link, "up")
        self.hosts[name] = host
        return host

    def cut(self, host: Host) -> None:
        """Unplug host: nothing it sends arrives, nothing reaches it, no connection is reset."""
        ip("-n", self.switch, "link", "set", host.port, "down")

    def pids(self, ns: str) -> list[int]:
        """The processes running in namespace ns."""
        try:
            return [int(p) for p in ip("netns", "pids", ns).split()]
        except RuntimeError:
            return []

    def close(self) -> None:
        """Kill what still runs in the hosts (the test started it all), delete everything."""
        for ns in self._namespaces:
            for pid in self.pids(ns):
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        for ns in self._namespaces:
            wait_for(lambda ns=ns: not self.pids(ns), 10, f"the processes of {ns} to end")
        subprocess.run(["ip", "link", "del", self._root_link], capture_output=True, timeout=20)
        for ns in reversed(self._namespaces):
            subprocess.run(["ip", "netns", "del", ns], capture_output=True, timeout=20)
        self._namespaces.clear()
