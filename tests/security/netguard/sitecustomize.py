"""Loaded by every Python process of the offline journey (this folder is put on PYTHONPATH):
records each attempt to reach the network in $WACHAT_NETGUARD_LOG and, with
WACHAT_NETGUARD_BLOCK=1 (where no network namespace can be made), refuses it like a machine
without a network would.

Python's audit hooks see every socket made, connected, resolved or sent from through the
standard library, which is how huggingface_hub, requests/httpx and urllib reach the network.
"""
import os
import socket
import sys

_LOG = os.environ.get("WACHAT_NETGUARD_LOG")
_BLOCK = os.environ.get("WACHAT_NETGUARD_BLOCK") == "1"
_NET = (socket.AF_INET, socket.AF_INET6)


def _record(what):
    if _LOG:
        with open(_LOG, "a", encoding="utf-8") as fh:
            fh.write(f"{os.getpid()} {' '.join(sys.argv[:3])}: {what}\n")
    if _BLOCK:
        raise OSError(101, "Network is unreachable (blocked by the offline test)")


def _audit(event, args):
    if event == "socket.getaddrinfo":
        _record(f"resolve {args[0]!r}:{args[1]!r}")
    elif event in ("socket.connect", "socket.sendto", "socket.sendmsg") and args[0].family in _NET:
        _record(f"{event.split('.')[1]} {args[1]!r}")
    elif event == "socket.__new__" and args[1] in _NET:
        _record(f"new socket family {args[1]!r}")


sys.addaudithook(_audit)
