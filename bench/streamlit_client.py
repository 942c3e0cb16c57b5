"""A Streamlit session over the websocket protocol, as the browser's frontend speaks it (no browser, no rendering).

One ``ProtocolSession`` is one browser tab as the server sees it: it takes the XSRF cookie from the first HTTP page
load, opens ``/_stcore/stream`` with the cookie token in ``Sec-WebSocket-Protocol``, and sends ``BackMsg``
protobufs: a ``rerun_script`` per navigation or widget change (with the session's widget states, like the
frontend), ``file_urls_request`` + an HTTP PUT per upload. It reads ``ForwardMsg``s until the run's
``script_finished``, keeps the page's elements by delta path, fetches every new ``/media`` image the run shows (a
browser would), and reports cacheable message hashes back (the browser's message cache) so the server's traffic is
the real one. Used by ``bench/load_classroom.py``; it speaks Streamlit 1.67's protocol (pinned in requirements).
"""

from __future__ import annotations

import asyncio
import json
import time
import urllib.parse
import uuid
from dataclasses import dataclass, field
from typing import Any

import requests
import requests.adapters
import websockets
from streamlit.components.v2.bidi_component.main import _make_trigger_id
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.Common_pb2 import FileUploaderState, FileURLsRequest, UploadedFileInfo
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.proto.WidgetStates_pb2 import WidgetState
from urllib3.util.retry import Retry

XSRF_COOKIE = "_streamlit_xsrf"
EARLY = ForwardMsg.ScriptFinishedStatus.FINISHED_EARLY_FOR_RERUN


class ProtocolError(RuntimeError):
    """The server did something a browser would show as an error (an exception element, a compile error, ...)."""


@dataclass
class RunResult:
    """One script run as the user sees it: how long until the page was complete, and what went wrong."""

    seconds: float  # from sending the request to the last media file of the finished run
    exceptions: list[str]  # st.exception / uncaught exception elements shown on the page
    bytes_received: int
    media_fetched: int


@dataclass
class ProtocolSession:
    """One simulated browser tab on a Streamlit server (``base``: e.g. http://127.0.0.1:8501)."""

    base: str
    timeout: float = 60.0
    session_id: str = ""
    pages: dict[str, str] = field(default_factory=dict)  # url path ("" for home) -> page_script_hash
    page_hash: str = ""
    query_string: str = ""
    elements: dict[tuple[int, ...], Any] = field(default_factory=dict)  # delta path -> Element of the current page
    fragment_of: dict[tuple[int, ...], str] = field(default_factory=dict)  # delta path -> fragment id
    widget_states: dict[str, WidgetState] = field(default_factory=dict)  # persistent values, like the frontend's
    message_cache: dict[str, ForwardMsg] = field(default_factory=dict)  # hash -> cacheable message (the browser's)
    media_seen: set[str] = field(default_factory=set)

    async def connect(self) -> None:
        """The first page load: the HTML, the health check (it sets the XSRF cookie), then the websocket."""
        self.http = requests.Session()
        # uvicorn closes a keep-alive connection after 5 idle seconds; a request sent on it at that moment is reset.
        # Browsers resend such a request once on a fresh connection; so does this client (GET and PUT only).
        self.http.mount(
            "http://", requests.adapters.HTTPAdapter(max_retries=Retry(total=1, status=0, backoff_factor=0))
        )
        for path in ("/", "/_stcore/health", "/_stcore/host-config"):
            r = await asyncio.to_thread(self.http.get, self.base + path, timeout=self.timeout)
            if r.status_code != 200:
                raise ProtocolError(f"GET {path} -> HTTP {r.status_code}")
        token = self.http.cookies.get(XSRF_COOKIE, "")
        ws_url = self.base.replace("http", "ws", 1) + "/_stcore/stream"
        self.ws = await websockets.connect(
            ws_url,
            subprotocols=["streamlit", token] if token else ["streamlit"],
            origin=self.base,
            additional_headers={"Cookie": f"{XSRF_COOKIE}={token}"} if token else None,
            max_size=64 * 2**20,
            open_timeout=self.timeout,
        )
        self.inbox: asyncio.Queue[ForwardMsg | Exception] = asyncio.Queue()
        self.bytes_in = 0
        self.reader = asyncio.create_task(self._read())

    async def close(self) -> None:
        await self.ws.close()
        self.reader.cancel()
        self.http.close()

    async def _read(self) -> None:
        try:
            async for data in self.ws:
                self.bytes_in += len(data)
                msg = ForwardMsg()
                msg.ParseFromString(data)
                await self.inbox.put(msg)
        except Exception as e:  # the connection closed or broke: the waiting run reports it
            await self.inbox.put(e)
        await self.inbox.put(ConnectionError("the server closed the websocket"))

    async def _send(self, back: BackMsg) -> None:
        await self.ws.send(back.SerializeToString())

    # ---- script runs ------------------------------------------------------------------------------------------

    async def open(self, path: str = "", query: str = "") -> RunResult:
        """Navigate to a page (url path without the leading slash; "" is the home page)."""
        if self.pages and path not in self.pages:
            raise ProtocolError(f"no page at /{path}; the app has {sorted(self.pages)}")
        self.page_hash = self.pages.get(path, "")
        self.query_string = query
        self.elements.clear()
        self.fragment_of.clear()
        self.widget_states.clear()  # a new page: its widgets start fresh, as in the browser
        return await self.rerun(page_name=path)

    async def rerun(
        self, triggers: list[WidgetState] | None = None, fragment_id: str = "", page_name: str = ""
    ) -> RunResult:
        """Send the widget states (plus one-shot ``triggers``) and wait until the run and its images are done."""
        start = time.perf_counter()
        bytes0 = self.bytes_in
        back = BackMsg()
        cs = back.rerun_script
        cs.query_string = self.query_string
        cs.page_script_hash = self.page_hash
        cs.page_name = page_name
        cs.fragment_id = fragment_id
        cs.widget_states.widgets.extend(list(self.widget_states.values()) + list(triggers or []))
        cs.cached_message_hashes.extend(sorted(self.message_cache))
        await self._send(back)
        exceptions, media = await self._until_finished()
        fetched = await self._fetch_media(media)
        return RunResult(time.perf_counter() - start, exceptions, self.bytes_in - bytes0, fetched)

    async def _next(self) -> ForwardMsg:
        msg = await asyncio.wait_for(self.inbox.get(), self.timeout)
        if isinstance(msg, Exception):
            raise msg
        return msg

    async def _until_finished(self) -> tuple[list[str], list[str]]:
        exceptions: list[str] = []
        media: list[str] = []
        while True:
            msg = await self._next()
            kind = msg.WhichOneof("type")
            if msg.metadata.cacheable and msg.hash:
                self.message_cache[msg.hash] = msg
            if kind == "ref_hash":  # a message this tab already has: replay it from the cache, at the new place
                if msg.ref_hash not in self.message_cache:
                    raise ProtocolError(f"the server referred to message {msg.ref_hash}, which this tab never got")
                cached = ForwardMsg()
                cached.CopyFrom(self.message_cache[msg.ref_hash])
                cached.metadata.CopyFrom(msg.metadata)
                msg, kind = cached, cached.WhichOneof("type")
            if kind == "new_session":
                self._on_new_session(msg)
            elif kind == "navigation":
                for page in msg.navigation.app_pages:
                    self.pages[page.url_pathname] = page.page_script_hash
                self.page_hash = msg.navigation.page_script_hash
            elif kind == "page_info_changed":
                self.query_string = msg.page_info_changed.query_string
            elif kind == "delta":
                self._on_delta(msg, exceptions, media)
            elif kind == "script_finished":
                if msg.script_finished == ForwardMsg.ScriptFinishedStatus.FINISHED_WITH_COMPILE_ERROR:
                    exceptions.append("the script failed to compile")
                if msg.script_finished != EARLY:
                    return exceptions, media

    def _on_new_session(self, msg: ForwardMsg) -> None:
        ns = msg.new_session
        if ns.initialize.session_id:
            self.session_id = ns.initialize.session_id
        for p in ns.app_pages:
            self.pages[p.url_pathname] = p.page_script_hash
        self.page_hash = ns.page_script_hash or self.page_hash

    def _on_delta(self, msg: ForwardMsg, exceptions: list[str], media: list[str]) -> None:
        path = tuple(msg.metadata.delta_path)
        delta = msg.delta
        if delta.WhichOneof("type") != "new_element":
            return
        el = delta.new_element
        self.elements[path] = el
        if delta.fragment_id:
            self.fragment_of[path] = delta.fragment_id
        kind = el.WhichOneof("type")
        if kind == "exception":
            exceptions.append(f"{el.exception.type}: {el.exception.message[:200]}")
        elif kind == "imgs":
            media.extend(img.url for img in el.imgs.imgs if img.url.startswith("/media/"))

    async def _fetch_media(self, urls: list[str]) -> int:
        new = [u for u in dict.fromkeys(urls) if u not in self.media_seen]

        def get(url: str) -> None:
            r = self.http.get(self.base + url, timeout=self.timeout)
            if r.status_code != 200:
                raise ProtocolError(f"GET {url} -> HTTP {r.status_code}")
            self.bytes_in += len(r.content)

        for url in new:
            await asyncio.to_thread(get, url)
            self.media_seen.add(url)
        return len(new)

    # ---- widgets ------------------------------------------------------------------------------------------------

    def find(self, kind: str, key: str) -> tuple[tuple[int, ...], Any]:
        """The element of type ``kind`` (e.g. "plotly_chart") whose widget id ends in ``-{key}``."""
        for path, el in self.elements.items():
            if el.WhichOneof("type") != kind:
                continue
            widget = getattr(el, kind)
            if getattr(widget, "id", "").endswith(f"-{key}") or getattr(widget, "id", "") == key:
                return path, widget
        shown = sorted({el.WhichOneof("type") for el in self.elements.values()})
        raise ProtocolError(f"no {kind} with key {key!r} on the page (it shows {shown})")

    async def select_plotly_point(self, key: str, point: dict[str, Any]) -> RunResult:
        """Click a point of an ``st.plotly_chart(on_select=...)`` chart: the selection the frontend sends."""
        path, chart = self.find("plotly_chart", key)
        selection = {"selection": {"points": [point], "point_indices": [0], "box": [], "lasso": []}}
        self.widget_states[chart.id] = WidgetState(id=chart.id, string_value=json.dumps(selection))
        return await self.rerun(fragment_id=self.fragment_of.get(path, ""))

    async def trigger_component_event(self, key: str, event: str, value: Any) -> RunResult:
        """A ``components.v2`` component's ``setTriggerValue(event, value)``: one rerun with that payload."""
        path, comp = self.find("bidi_component", key)
        trigger = WidgetState(
            id=_make_trigger_id(comp.id, "events"), json_trigger_value=json.dumps([{"event": event, "value": value}])
        )
        return await self.rerun(triggers=[trigger], fragment_id=self.fragment_of.get(path, ""))

    async def upload(self, key: str, name: str, content: bytes, mime: str = "image/png") -> RunResult:
        """Put one file in an ``st.file_uploader``: ask for an upload URL, PUT the file, rerun with its info."""
        start = time.perf_counter()
        path, uploader = self.find("file_uploader", key)
        request_id = uuid.uuid4().hex
        back = BackMsg(file_urls_request=FileURLsRequest(request_id=request_id, session_id=self.session_id))
        back.file_urls_request.file_names.append(name)
        await self._send(back)
        while True:
            msg = await self._next()
            if msg.WhichOneof("type") == "file_urls_response" and msg.file_urls_response.response_id == request_id:
                break
        response = msg.file_urls_response
        if response.error_msg:
            raise ProtocolError(f"upload URL refused: {response.error_msg}")
        urls = response.file_urls[0]
        token = self.http.cookies.get(XSRF_COOKIE, "")
        put = await asyncio.to_thread(
            self.http.put,
            urllib.parse.urljoin(self.base + "/", urls.upload_url.lstrip("/")),
            files={"file": (name, content, mime)},
            headers={"X-Xsrftoken": token},
            timeout=self.timeout,
        )
        if put.status_code not in (200, 204):
            raise ProtocolError(f"upload PUT -> HTTP {put.status_code}: {put.text[:200]}")
        info = UploadedFileInfo(file_id=urls.file_id, name=name, size=len(content), file_urls=urls)
        self.widget_states[uploader.id] = WidgetState(
            id=uploader.id, file_uploader_state_value=FileUploaderState(uploaded_file_info=[info])
        )
        result = await self.rerun(fragment_id=self.fragment_of.get(path, ""))
        result.seconds = time.perf_counter() - start
        return result
