"""`chalice local`, as `make run` starts it, with room for many clients connecting at once.

Chalice's local server is Python's `ThreadingMixIn` HTTP server, whose listen backlog is
`socketserver`'s default of 5 connections: 40 clients connecting at once got
`ConnectionResetError` on 20 of 80 requests (docs/local-runtime.md). This runs Chalice's own
command line unchanged, with a backlog of 1,024 (the kernel caps it at `somaxconn`), and a
`Server` header without version details (Python's says `BaseHTTP/0.6 Python/3.11.7`):

    python -m localdev.api_server local --stage local --port 8000 --no-autoreload
"""

from __future__ import annotations

import sys

# As deep as the kernel lets a listen queue be by default (net.core.somaxconn): a burst of
# connections waits there for the server's accept loop instead of being reset.
LISTEN_BACKLOG = 1024


def main() -> int:
    from chalice import local
    from chalice.cli import main as chalice_main

    from localdev.client_speedups import speed_up_clients

    speed_up_clients()
    local.ThreadedHTTPServer.request_queue_size = LISTEN_BACKLOG
    setattr(local.ChaliceRequestHandler, "version_string", lambda self: "chalice-local")  # noqa: B010
    sys.argv[0] = "chalice"
    return int(chalice_main() or 0)


if __name__ == "__main__":
    sys.exit(main())
