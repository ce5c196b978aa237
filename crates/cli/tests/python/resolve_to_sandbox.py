"""Runs a Python program unchanged, with some host names resolved to the sandbox.

    python3 resolve_to_sandbox.py .coupahost.com 127.0.0.1:8443 program.py [args...]

Only name resolution changes, in this process: a name ending in the suffix resolves to the
sandbox's address, and its port 443 to the sandbox's port, as a hosts entry and a port
forward would do. TLS still checks the certificate against the name the program asked for,
with whatever CA bundle the environment gives it (REQUESTS_CA_BUNDLE).
"""

import runpy
import socket
import sys

suffix, target = sys.argv[1], sys.argv[2]
sandbox_host, sandbox_port = target.rsplit(":", 1)
system_getaddrinfo = socket.getaddrinfo


def getaddrinfo(host, port, *args, **kwargs):
    name = host.decode() if isinstance(host, bytes) else host
    if isinstance(name, str) and name.lower().endswith(suffix):
        if port in (443, "443", "https", None):
            port = int(sandbox_port)
        return system_getaddrinfo(sandbox_host, port, *args, **kwargs)
    return system_getaddrinfo(host, port, *args, **kwargs)


socket.getaddrinfo = getaddrinfo
sys.argv = sys.argv[3:]
runpy.run_path(sys.argv[0], run_name="__main__")
