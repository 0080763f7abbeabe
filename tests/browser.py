"""A small browser for tests: opens a page, reads its forms the way a browser does, submits
them (form-encoded, resolved against the page's own URL, cookies kept), follows redirects
(as GETs) and nothing else. It knows no route of the app: a form whose action is wrong fails
here as it would for a person.

Three ways to reach the app: `chalice.test.Client`, real HTTP (the local runtime), and the
Lambda handler called with API Gateway REST events carrying a stage prefix (as on AWS).
"""

from __future__ import annotations

import base64
import json
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from html.parser import HTMLParser
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

# (method, absolute url, headers, body) -> (status, headers, body text)
Send = Callable[[str, str, dict[str, str], bytes], tuple[int, dict[str, str], str]]


@dataclass
class Form:
    method: str  # "get" or "post", lower case as the HTML spec normalises it
    action: str | None  # None when the form has no action attribute
    fields: dict[str, str]  # what the form sends as it stands (checked radios, selected options)
    buttons: list[str]
    choices: dict[str, list[str]] = field(default_factory=dict)  # select and radio values


@dataclass
class Page:
    url: str
    status: int
    html: str
    headers: dict[str, str] = field(default_factory=dict)

    def forms(self) -> list[Form]:
        parser = _FormParser()
        parser.feed(self.html)
        return parser.forms

    def target(self, form: Form) -> str:
        """Where `form` submits to, resolved as a browser does: no action (or an empty one)
        means the document's own URL."""
        return urljoin(self.url, form.action or "").split("#")[0]

    def form(self, button: str) -> Form:
        """The form whose submit button reads `button`."""
        matching = [f for f in self.forms() if button in f.buttons]
        assert len(matching) == 1, f"no single form with button {button!r} in:\n{self.html}"
        return matching[0]

    def link(self, text: str) -> str:
        """Where the one link reading `text` leads, resolved as a browser does."""
        parser = _LinkParser()
        parser.feed(self.html)
        matching = [href for words, href in parser.links if text in words]
        assert len(matching) == 1, f"no single link {text!r} in:\n{self.html}"
        return urljoin(self.url, matching[0])

    def stylesheets(self) -> list[str]:
        """The page's <link rel="stylesheet"> URLs, resolved as a browser does."""
        parser = _LinkParser()
        parser.feed(self.html)
        return [urljoin(self.url, href) for href in parser.stylesheets]

    @property
    def text(self) -> str:
        parser = _TextParser()
        parser.feed(self.html)
        return " ".join(" ".join(parser.parts).split())


class Browser:
    def __init__(self, send: Send) -> None:
        self._send = send
        self.cookies: dict[str, str] = {}

    def open(self, url: str) -> Page:
        return self._request("GET", url, b"", {})

    def submit(self, page: Page, button: str, **values: str) -> Page:
        """Press `button` on `page` after filling `values` in, as a browser does: a select or
        a set of radio buttons takes only one of the values the page offers."""
        form = page.form(button)
        for name, value in values.items():
            offered = form.choices.get(name)
            assert offered is None or value in offered, f"{name}={value!r} is not in {offered}"
        fields = {**form.fields, **values}
        target = page.target(form)
        if form.method == "get":
            parts = urlsplit(target)
            target = urlunsplit(parts._replace(query=urlencode(fields)))
            return self._request("GET", target, b"", {})
        body = urlencode(fields).encode()
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        return self._request("POST", target, body, headers)

    def _request(self, method: str, url: str, body: bytes, headers: dict[str, str]) -> Page:
        if self.cookies:
            headers = {**headers, "Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}
        status, reply_headers, text = self._send(method, url, headers, body)
        for name, value in reply_headers.items():
            if name.lower() == "set-cookie":
                cookie: SimpleCookie = SimpleCookie()
                cookie.load(value)
                for key, morsel in cookie.items():
                    if morsel["max-age"] == "0":
                        self.cookies.pop(key, None)
                    else:
                        self.cookies[key] = morsel.value
        location = {k.lower(): v for k, v in reply_headers.items()}.get("location")
        if status in (301, 302, 303) and location:
            # As a browser does: a GET of the Location, resolved against this URL.
            return self._request("GET", urljoin(url, location), b"", {})
        return Page(url, status, text, reply_headers)


class _FormParser(HTMLParser):
    """Forms as a browser submits them: disabled controls left out, an unchecked radio or
    checkbox sends nothing, a select sends its selected option (else its first)."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[Form] = []
        self._textarea: str | None = None
        self._button: list[str] | None = None
        self._select: str | None = None
        self._option: tuple[list[str], bool] | None = None  # text so far, selected

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {k: v or "" for k, v in attrs}
        if tag == "form":
            method = attributes.get("method", "get").lower()
            self.forms.append(Form(method, dict(attrs).get("action"), {}, []))
        elif not self.forms or "disabled" in attributes:
            return
        elif tag == "input" and attributes.get("name"):
            self._input(attributes)
        elif tag == "textarea" and attributes.get("name"):
            self._textarea = attributes["name"]
            self.forms[-1].fields[self._textarea] = ""
        elif tag == "select" and attributes.get("name"):
            self._select = attributes["name"]
            self.forms[-1].choices[self._select] = []
        elif tag == "option" and self._select is not None:
            text = [attributes["value"]] if "value" in attributes else []
            self._option = (text, "selected" in attributes)
        elif tag == "button":
            self._button = []

    def _input(self, attributes: dict[str, str]) -> None:
        form, name, kind = self.forms[-1], attributes["name"], attributes.get("type", "text")
        if kind in ("radio", "checkbox"):
            value = attributes.get("value", "on")
            form.choices.setdefault(name, []).append(value)
            if "checked" in attributes:
                form.fields[name] = value
        elif kind not in ("submit", "button"):
            form.fields[name] = attributes.get("value", "")

    def handle_data(self, data: str) -> None:
        if self._textarea is not None:
            self.forms[-1].fields[self._textarea] += data
        if self._button is not None:
            self._button.append(data)
        if self._option is not None and not self._option[0]:
            self._option[0].append(data.strip())

    def handle_endtag(self, tag: str) -> None:
        if tag == "textarea":
            self._textarea = None
        elif tag == "button" and self._button is not None:
            self.forms[-1].buttons.append("".join(self._button).strip())
            self._button = None
        elif tag == "option" and self._option is not None and self._select is not None:
            text, selected = self._option
            value = "".join(text)
            self.forms[-1].choices[self._select].append(value)
            if selected or self._select not in self.forms[-1].fields:
                self.forms[-1].fields[self._select] = value
            self._option = None
        elif tag == "select":
            self._select = None


class _LinkParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.links: list[tuple[str, str]] = []  # (text, href)
        self.stylesheets: list[str] = []
        self._link: tuple[list[str], str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {k: v or "" for k, v in attrs}
        if tag == "a" and "href" in attributes:
            self._link = ([], attributes["href"])
        elif tag == "link" and attributes.get("rel") == "stylesheet":
            self.stylesheets.append(attributes.get("href", ""))

    def handle_data(self, data: str) -> None:
        if self._link is not None:
            self._link[0].append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "a" and self._link is not None:
            words, href = self._link
            self.links.append((" ".join("".join(words).split()), href))
            self._link = None


class _TextParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._skip += tag in ("style", "script", "title")

    def handle_endtag(self, tag: str) -> None:
        self._skip -= tag in ("style", "script", "title")

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)


# -- transports --------------------------------------------------------------------------


def through_test_client(client: Any) -> Send:
    """`chalice.test.Client`; URLs are taken as seen by the app (path and query)."""

    def send(method: str, url: str, headers: dict[str, str], body: bytes) -> Any:
        parts = urlsplit(url)
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        response = getattr(client.http, method.lower())(path, headers=headers, body=body)
        return response.status_code, dict(response.headers), response.body.decode()

    return send


def over_http() -> Send:
    """Real HTTP (the local runtime); redirects are not followed, as none are expected."""

    def send(method: str, url: str, headers: dict[str, str], body: bytes) -> Any:
        request = urllib.request.Request(
            url, data=body if method == "POST" else None, headers=headers, method=method
        )
        try:
            with urllib.request.urlopen(request, timeout=15) as reply:
                return reply.status, dict(reply.headers), reply.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, dict(error.headers), error.read().decode()

    return send


def through_api_gateway(app: Any, stage: str, context: Any) -> Send:
    """The Lambda handler called with API Gateway REST proxy events, as on AWS: the public URL
    carries the stage (`/api/restaurants/...`), `path` and the resource do not."""

    def send(method: str, url: str, headers: dict[str, str], body: bytes) -> Any:
        parts = urlsplit(url)
        prefix = f"/{stage}"
        assert parts.path.startswith(prefix + "/"), f"{url} is not under the stage {prefix}"
        path = parts.path.removeprefix(prefix)
        route = _route_of(app, path)
        assert route is not None, f"API Gateway: no resource for {path} (from {url})"
        resource, parameters = route
        multi: dict[str, list[str]] = {}
        for key, value in parse_qsl(parts.query, keep_blank_values=True):
            multi.setdefault(key, []).append(value)
        query = {key: values[-1] for key, values in multi.items()}
        all_headers = {"Host": parts.netloc, **headers}
        event = {
            "resource": resource,
            "path": path,
            "httpMethod": method,
            "headers": all_headers,
            "multiValueHeaders": {k: [v] for k, v in all_headers.items()},
            "queryStringParameters": query or None,
            "multiValueQueryStringParameters": multi or None,
            "pathParameters": parameters or None,
            "stageVariables": None,
            "requestContext": {
                "resourcePath": resource,
                "httpMethod": method,
                "path": parts.path,
                "stage": stage,
                "requestId": str(uuid.uuid4()),
                "accountId": "123456789012",
                "apiId": "abc123",
                "domainName": parts.netloc,
                "identity": {"sourceIp": "203.0.113.7"},
            },
            "body": base64.b64encode(body).decode() if body else None,
            "isBase64Encoded": bool(body),
        }
        reply = app(event, context)
        text = reply["body"]
        if reply.get("isBase64Encoded"):
            text = base64.b64decode(text).decode()
        if not isinstance(text, str):
            text = json.dumps(text)
        return reply["statusCode"], dict(reply.get("headers") or {}), text

    return send


def _route_of(app: Any, path: str) -> tuple[str, dict[str, str]] | None:
    """API Gateway's resource match: the route template whose segments fit `path`."""
    segments = path.strip("/").split("/")
    for resource in app.routes:
        template = resource.strip("/").split("/")
        if len(template) != len(segments):
            continue
        parameters: dict[str, str] = {}
        for want, got in zip(template, segments, strict=True):
            if want.startswith("{") and want.endswith("}"):
                parameters[want[1:-1]] = got
            elif want != got:
                break
        else:
            return resource, parameters
    return None
