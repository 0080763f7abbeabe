"""The emulator's own process: `python -m localdev.aws_server --port 4566 --mail-fd N`.

moto in server mode, with the fixes of `localdev.aws_emulation`, in a process of its own so
that it has a core (and a GIL) to itself: sharing one with the event handlers made each
booking wait for the other (measured: docs/local-runtime.md). `localdev.emulator.Emulator`
starts it and reads what SES sends from the pipe `--mail-fd` (one JSON line per message), so
the outbox sees mail the moment it is sent, without polling. The process ends when its parent
closes its stdin (or dies) or on SIGTERM.
"""

from __future__ import annotations

import argparse
import functools
import io
import json
import logging
import os
import re
import signal
import socket
import socketserver
import sys
import threading
from collections import Counter
from collections.abc import Iterator, Mapping
from typing import Any, BinaryIO
from urllib.parse import unquote_to_bytes

from moto.core.request import (
    PRESERVED_HEADER_NAMES_ENVIRON_KEY,
    environ_key_for_header,
    should_preserve_original_header_name,
)

from localdev.aws_emulation import serialize_dynamodb_requests, silence_known_gaps

READY = "ready"
REQUESTS_PATH = "/_localdev/requests"  # GET: requests answered so far, by operation


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=4566)
    parser.add_argument("--mail-fd", type=int, required=True, help="where sent mail is written")
    args = parser.parse_args(argv)
    feed = os.fdopen(args.mail_fd, "wb", buffering=0)
    stopping = threading.Event()
    signal.signal(signal.SIGTERM, lambda signum, frame: stopping.set())
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the launcher; it stops us
    threading.Thread(target=_until_stdin_closes, args=(stopping,), daemon=True).start()

    serialize_dynamodb_requests()
    silence_known_gaps()
    speed_up_moto()
    _publish_sent_mail(_Feed(feed))
    try:
        server = _server(args.host, args.port)
    except OSError as error:
        sys.stderr.write(f"the AWS emulator cannot listen on {args.host}:{args.port}: {error}\n")
        return 1
    threading.Thread(target=server.run, name="moto", daemon=True).start()
    _Feed(feed).write({"event": READY})
    stopping.wait()
    server.close()
    return 0


def _server(host: str, port: int) -> _Server:
    """moto's WSGI application behind `_Server`, bound before it returns."""
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

    return _Server((host, port), DomainDispatcherApplication(create_backend_app))


class _Server(socketserver.ThreadingTCPServer):
    """HTTP/1.1 with kept-alive connections, a thread per connection, for one WSGI app.

    moto's own server (werkzeug's) closes the connection after every response: each call
    paid a TCP handshake and a new thread on both sides. Waitress kept connections alive but
    cost as much CPU as moto itself (measured under a drain: its event loop walks every open
    connection on each wake-up, and each request hops from that loop to a worker thread and
    back). Here the thread that reads a connection answers it, and an idle connection costs a
    blocked thread, nothing more. The clients are botocore's and the tests' (Content-Length
    bodies, or chunked)."""

    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 1024  # a burst of clients connecting at once is never refused

    def __init__(self, address: tuple[str, int], application: Any) -> None:
        super().__init__(address, _Connection)
        self.application = application
        self.requests = _Requests()
        self.base_environ: dict[str, Any] = {
            "SERVER_NAME": address[0],
            "SERVER_PORT": str(self.server_address[1]),
            "SCRIPT_NAME": "",
            "wsgi.version": (1, 0),
            "wsgi.url_scheme": "http",
            "wsgi.errors": sys.stderr,
            "wsgi.multithread": True,
            "wsgi.multiprocess": False,
            "wsgi.run_once": False,
        }

    def run(self) -> None:
        self.serve_forever(poll_interval=0.5)

    def close(self) -> None:
        self.shutdown()
        self.server_close()


class _Connection(socketserver.StreamRequestHandler):
    server: _Server
    rbufsize = 65536

    def handle(self) -> None:
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            while self._one_request():
                pass
        except (ConnectionError, TimeoutError, _BadRequest):
            pass

    def _one_request(self) -> bool:
        line = self.rfile.readline(65537)
        if not line:
            return False
        try:
            method, target, version = line.decode("latin-1").split()
        except ValueError as error:
            raise _BadRequest from error
        environ: dict[str, Any] = dict(self.server.base_environ)
        headers: list[tuple[str, str]] = []
        while True:
            header = self.rfile.readline(65537)
            if header in (b"\r\n", b"\n", b""):
                break
            name, _, value = header.decode("latin-1").partition(":")
            headers.append((name.strip(), value.strip()))
        preserved: dict[str, str] = {}
        for name, value in headers:
            key = environ_key_for_header(name)
            if "_" in name:  # never let X_Foo stand in for X-Foo (werkzeug drops these too)
                if not should_preserve_original_header_name(name):
                    continue
                preserved[key] = name
            environ[key] = f"{environ[key]},{value}" if key in environ else value
        environ[PRESERVED_HEADER_NAMES_ENVIRON_KEY] = preserved
        if environ.get("HTTP_TRANSFER_ENCODING", "").lower() == "chunked":
            body = self._chunked()
            environ["CONTENT_LENGTH"] = str(len(body))
        else:
            body = self.rfile.read(int(environ.get("CONTENT_LENGTH") or 0))
        path, _, query = target.partition("?")
        if "://" in path:  # an absolute target
            path = "/" + path.split("://", 1)[1].partition("/")[2]
        environ.update(
            REQUEST_METHOD=method,
            PATH_INFO=unquote_to_bytes(path).decode("latin-1"),
            QUERY_STRING=query,
            SERVER_PROTOCOL=version,
            REMOTE_ADDR=self.client_address[0],
            REMOTE_PORT=str(self.client_address[1]),
        )
        environ["wsgi.input"] = io.BytesIO(body)
        environ.setdefault("CONTENT_LENGTH", str(len(body)))
        keep_alive = version == "HTTP/1.1" and (
            environ.get("HTTP_CONNECTION", "").lower() != "close"
        )
        self._respond(environ, method, keep_alive)
        return keep_alive

    def _chunked(self) -> bytes:
        parts: list[bytes] = []
        while True:
            size = int(self.rfile.readline(65537).split(b";")[0].strip() or b"0", 16)
            if size == 0:
                while self.rfile.readline(65537) not in (b"\r\n", b"\n", b""):
                    pass  # trailers
                return b"".join(parts)
            parts.append(self.rfile.read(size))
            self.rfile.readline(65537)

    def _respond(self, environ: dict[str, Any], method: str, keep_alive: bool) -> None:
        if environ["PATH_INFO"] == REQUESTS_PATH:
            counts = json.dumps(self.server.requests.counts()).encode()
            self._send("200 OK", [("Content-Type", "application/json")], counts, method, keep_alive)
            return
        self.server.requests.count(environ, environ["wsgi.input"].getvalue())
        answer: list[Any] = []

        def start_response(status: str, headers: list[tuple[str, str]], exc: Any = None) -> Any:
            answer[:] = [status, headers]
            return lambda data: chunks.append(data)

        chunks: list[bytes] = []
        try:
            result = self.server.application(environ, start_response)
            try:
                chunks.extend(result)
            finally:
                if hasattr(result, "close"):
                    result.close()
        except Exception:
            logging.getLogger("localdev.aws_server").exception("moto failed a request")
            answer[:] = ["500 Internal Server Error", [("Content-Type", "text/plain")]]
            chunks = [b"the emulator failed this request"]
        status, headers = answer
        self._send(status, headers, b"".join(chunks), method, keep_alive)

    def _send(
        self, status: str, headers: list[tuple[str, str]], body: bytes, method: str,
        keep_alive: bool,
    ) -> None:  # fmt: skip
        lines = [f"HTTP/1.1 {status}"]
        lines += [f"{n}: {v}" for n, v in headers if n.lower() not in _HOP_BY_HOP]
        lines.append(f"Content-Length: {len(body)}")
        lines.append("Connection: keep-alive" if keep_alive else "Connection: close")
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        self.wfile.write(head + (b"" if method == "HEAD" else body))


class _BadRequest(Exception):
    pass


class _Requests:
    """How many requests of each operation the emulator has answered since it started,
    served at REQUESTS_PATH (the benchmarks read it to relate CPU to calls). An operation is
    named by its X-Amz-Target (JSON protocols) or its Action (query protocols)."""

    def __init__(self) -> None:
        self._counts: Counter[str] = Counter()
        self._lock = threading.Lock()

    def count(self, environ: Mapping[str, Any], body: bytes) -> None:
        target = environ.get("HTTP_X_AMZ_TARGET")
        if target:
            operation = target.rpartition(".")[2]
        else:  # found, not split: a query body can be an email of tens of kB
            form = body if body else environ.get("QUERY_STRING", "").encode()
            action = _ACTION.search(form)
            operation = action.group(1).decode("latin-1") if action else "other"
        with self._lock:
            self._counts[operation] += 1

    def counts(self) -> dict[str, int]:
        with self._lock:
            return dict(self._counts)


_ACTION = re.compile(rb"(?:^|&)Action=([^&]*)")
_HOP_BY_HOP = frozenset({"content-length", "connection", "transfer-encoding", "keep-alive"})


def _until_stdin_closes(stopping: threading.Event) -> None:
    """The launcher holds our stdin open: when it ends, however it ends, so do we."""
    sys.stdin.buffer.read()
    stopping.set()


class _Feed:
    """One JSON line per message on the mail pipe; whole lines, whichever thread writes."""

    _lock = threading.Lock()

    def __init__(self, pipe: BinaryIO) -> None:
        self._pipe = pipe

    def write(self, message: dict[str, Any]) -> None:
        line = json.dumps(message).encode() + b"\n"
        with self._lock:
            try:
                self._pipe.write(line)
            except BrokenPipeError:  # the launcher is gone; stdin's end will stop us
                pass


def _publish_sent_mail(feed: _Feed) -> None:
    """Every message SES accepts (SendEmail, SendRawEmail, SES v2) goes to the feed too: moto
    appends each to its backend's `sent_messages`."""
    from moto.ses.models import SESBackend

    original = SESBackend.__init__

    class Published(list[Any]):
        def append(self, message: Any) -> None:
            super().append(message)
            feed.write(
                {
                    "event": "sent",
                    "id": message.id,
                    "source": message.source,
                    "raw_data": getattr(message, "raw_data", ""),
                }
            )

    @functools.wraps(original)
    def init(self: Any, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        self.sent_messages = Published(self.sent_messages)

    setattr(SESBackend, "__init__", init)  # noqa: B010 - patching moto


def speed_up_moto() -> None:
    """Costs moto pays on every request that change nothing it answers (found with py-spy
    under load, docs/local-runtime.md). Each fix keeps moto's answers as they were:

    - finding a request's service lists moto's package directory on disk, under a lock that
      every request takes: the list never changes while it runs, so list it once;
    - each EventBridge delivery to a target parses the same eight JSONPath expressions with a
      freshly built parser: parse each expression once;
    - SQS works out a queue's approximate counts (a pass over every message each) whenever it
      reads any queue attribute: on every SendMessage, and for each message a ReceiveMessage
      returns. A queue a few hundred deep made each booking slower than the last. Counts are
      now worked out only when asked for (GetQueueAttributes);
    - moto's response serializer walks the service model for every value it writes: for a
      DynamoDB item, every attribute of every map and list, ten members each. GetItem on the
      demo restaurant took 6 ms of the emulator's time, a GetRecords of 20 bookkeeping records
      190 ms. An attribute value moto already holds in wire form (DynamoDB's JSON, without
      binary) is now written as it is; anything else still takes moto's own path;
    - every UpdateItem (each occupancy cell of a booking's transaction is one) parsed its
      update expression and lexed its condition afresh, and copied the parsed tree with
      `copy.deepcopy`: each expression is now parsed and lexed once (moto copies the tree
      before it works on it, and lexing yields immutable tokens), and the copy is a pickle
      round trip (same tree, in half the time);
    - each of the ten checks an UpdateItem's tree goes through walked it asking, at every node,
      for its table of node types, rebuilt afresh each time (a third of a booking's emulator
      time, in TransactWriteItems of eight updates): the walk is the same, node for node, with
      the table built once per walk;
    - every request listed its handler class's methods with `inspect.getmembers` to check that
      the action exists: classes do not change while it runs, so each is listed once;
    - a request id (52 random letters and digits) drew each character with its own call.
    """
    import jsonpath_ng.ext
    import jsonpath_ng.ext.parser
    import moto.backends
    from moto.sqs.models import Queue

    modules = tuple(moto.backends.list_of_moto_modules())
    setattr(moto.backends, "list_of_moto_modules", lambda: modules)  # noqa: B010
    parse = functools.lru_cache(maxsize=256)(jsonpath_ng.ext.parser.parse)
    setattr(jsonpath_ng.ext, "parse", parse)  # noqa: B010 - moto imports it at each call
    setattr(Queue, "attributes", property(_QueueAttributes))  # noqa: B010 - patching moto
    _attribute_values_as_they_are()
    _expressions_parsed_once()
    _tree_walks_without_rebuilding()
    _handler_methods_listed_once()
    _request_ids_drawn_at_once()


def _tree_walks_without_rebuilding() -> None:
    from moto.dynamodb.parsing.ast_nodes import DepthFirstTraverser  # type: ignore[attr-defined]

    def traverse(self: Any, root: Any) -> Any:
        return _Walk(self).walk(root, -1)

    setattr(DepthFirstTraverser, "traverse", traverse)  # noqa: B010 - patching moto


class _Walk:
    """moto's DepthFirstTraverser.traverse_node_recursively, step for step, with the
    processor's map built once per walk. moto's node types are ABCs, so each isinstance goes
    through ABCMeta: the answer for a class never changes (nothing registers virtual
    subclasses), so it is worked out once per class."""

    _is_node: dict[type, bool] = {}
    _keys: dict[tuple[type, type], Any] = {}  # (processor class, node class) -> map key

    def __init__(self, processor: Any) -> None:
        from moto.dynamodb.parsing.ast_nodes import Node  # type: ignore[attr-defined]

        self._node = Node
        self._processor = processor
        self._map = processor._processing_map()
        self._wanted = processor.nodes_to_be_processed()

    def walk(self, node: Any, child_id: int) -> Any:
        node_class = type(node)
        known = self._is_node.get(node_class)
        if known is None:
            known = self._is_node[node_class] = isinstance(node, self._node)
        if not known:
            return node
        parent_node = node.parent
        if node.children is not None:
            for i, child_node in enumerate(node.children):
                self._processor.pre_processing_of_child(node, i)
                self.walk(child_node, i)
        key = self._key(node_class)
        if key is not None:
            # DepthFirstTraverser.process: the first key of the map the node is an instance of
            node = self._map[key](node) if key in self._map else None
            node.parent = parent_node
            if parent_node:
                parent_node.children[child_id] = node
        return node

    def _key(self, node_class: type) -> Any:
        cache = (type(self._processor), node_class)
        if cache not in self._keys:
            wanted = issubclass(node_class, self._wanted)
            found = next((k for k in self._map if issubclass(node_class, k)), _UNMATCHED)
            self._keys[cache] = found if wanted else None
        return self._keys[cache]


_UNMATCHED = object()  # a wanted node no key matches: moto's `process` returns None


def _handler_methods_listed_once() -> None:
    import moto.core.responses as responses

    listed = functools.lru_cache(maxsize=None)(getattr(responses, "method_names_from_class"))  # noqa: B009
    setattr(responses, "method_names_from_class", lambda clazz: list(listed(clazz)))  # noqa: B010


def _request_ids_drawn_at_once() -> None:
    import string

    from moto.moto_api._internal.moto_random import MotoRandom

    letters = string.ascii_letters + string.digits
    original = MotoRandom.get_random_string

    @functools.wraps(original)
    def get_random_string(
        self: Any, length: int = 20, include_digits: bool = True, lower_case: bool = False
    ) -> str:
        pool = letters if include_digits else string.ascii_letters
        drawn = "".join(self.choices(pool, k=length))
        return drawn.lower() if lower_case else drawn

    setattr(MotoRandom, "get_random_string", get_random_string)  # noqa: B010 - patching moto


def _attribute_values_as_they_are() -> None:
    from moto.core.serialize import BaseJSONSerializer

    original = BaseJSONSerializer._serialize_type_structure

    @functools.wraps(original)
    def serialize_structure(self: Any, serialized: Any, value: Any, shape: Any, key: str) -> None:
        if (
            key
            and shape.name == "AttributeValue"
            and not self._value_picker.response_transformers
            and is_wire_attribute_value(value)
        ):
            self._default_serialize(serialized, value, shape, key)
            return
        original(self, serialized, value, shape, key)

    setattr(BaseJSONSerializer, "_serialize_type_structure", serialize_structure)  # noqa: B010


def _expressions_parsed_once() -> None:
    import collections
    import copy
    import pickle

    import moto.dynamodb.models as models
    import moto.dynamodb.parsing.validators as validators
    from moto.dynamodb.comparisons import ConditionExpressionParser
    from moto.dynamodb.parsing.expressions import UpdateExpressionParser  # type: ignore[attr-defined]

    class ParsedOnce(UpdateExpressionParser):  # type: ignore[misc]
        make = staticmethod(functools.lru_cache(maxsize=512)(UpdateExpressionParser.make))

    lex = ConditionExpressionParser._lex_condition_expression

    @functools.lru_cache(maxsize=512)
    def lexed(expression: str) -> tuple[Any, ...]:
        return tuple(lex(ConditionExpressionParser(expression, None, None)))

    def lex_once(self: Any) -> Any:
        return collections.deque(lexed(self.condition_expression))

    def clone(tree: Any, memo: Any = None) -> Any:
        try:
            return pickle.loads(pickle.dumps(tree, pickle.HIGHEST_PROTOCOL))
        except (pickle.PicklingError, TypeError, AttributeError):
            return copy.deepcopy(tree, memo)

    setattr(models, "UpdateExpressionParser", ParsedOnce)  # noqa: B010 - patching moto
    setattr(ConditionExpressionParser, "_lex_condition_expression", lex_once)  # noqa: B010
    setattr(validators, "deepcopy", clone)  # noqa: B010 - patching moto


def is_wire_attribute_value(value: Any) -> bool:
    """A DynamoDB attribute value exactly as DynamoDB's JSON spells it (one type key; strings
    for S and N; no binary, which moto's own path encodes)."""
    if not isinstance(value, dict) or len(value) != 1:
        return False
    [(kind, inner)] = value.items()
    if kind in ("S", "N"):
        return isinstance(inner, str)
    if kind in ("SS", "NS"):
        return isinstance(inner, list) and all(isinstance(item, str) for item in inner)
    if kind in ("NULL", "BOOL"):
        return isinstance(inner, bool)
    if kind == "M":
        return isinstance(inner, dict) and all(
            isinstance(name, str) and is_wire_attribute_value(item) for name, item in inner.items()
        )
    if kind == "L":
        return isinstance(inner, list) and all(is_wire_attribute_value(item) for item in inner)
    return False


class _QueueAttributes(Mapping[str, Any]):
    """moto's `Queue.attributes` (same keys, same values), each worked out when it is read."""

    def __init__(self, queue: Any) -> None:
        self._queue = queue
        keys = list(queue.BASE_ATTRIBUTES)
        keys += queue.FIFO_ATTRIBUTES if queue.fifo_queue else []
        keys += queue.KMS_ATTRIBUTES if queue.kms_master_key_id else []
        self._keys = keys

    def __getitem__(self, key: str) -> Any:
        from moto.core.utils import camelcase_to_underscores

        if key not in self._keys:
            raise KeyError(key)
        if key == "RedrivePolicy":
            policy = self._queue.redrive_policy
            return json.dumps(policy) if policy else policy
        value = getattr(self._queue, camelcase_to_underscores(key))
        return str(value).lower() if isinstance(value, bool) else value

    def __iter__(self) -> Iterator[str]:
        return iter(self._keys)

    def __len__(self) -> int:
        return len(self._keys)


if __name__ == "__main__":
    sys.exit(main())
