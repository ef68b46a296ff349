"""How long kiln waits for a client that has started a request: a connection that has not
sent a request's whole header block, or goes quiet in the middle of its body, within
REQUEST_TIMEOUT seconds is closed (headers) or answered 408 (body). Without it, a few
hundred half-sent requests stay open for ever (uvicorn times out only idle keep-alive
connections, between requests). Set by `kiln serve` (--request-timeout, KILN_REQUEST_TIMEOUT)."""
from __future__ import annotations

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

REQUEST_TIMEOUT = 10.0


def set_request_timeout(seconds: float) -> None:
    global REQUEST_TIMEOUT
    REQUEST_TIMEOUT = seconds


class HeaderTimeoutProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol, closing a connection whose request headers do not
    arrive in full within REQUEST_TIMEOUT of the connection or of the request's first byte,
    and answering a request that is not HTTP at all as the API answers errors (uvicorn's
    own answer is text/plain, with no request id or error type)."""

    def send_400_response(self, msg: str) -> None:
        from kiln import errors
        from kiln.core import error_response, new_request_id

        response = error_response(errors.InvalidRequestException(
            f"The request is not valid HTTP: {msg}"), new_request_id())
        head = [b"HTTP/1.1 400 Bad Request\r\n"]
        for name, value in {**response.headers, "content-length": str(len(response.body)),
                            "connection": "close"}.items():
            head.append(f"{name}: {value}\r\n".encode("latin-1"))
        self.transport.write(b"".join(head) + b"\r\n" + response.body)
        self.transport.close()

    _timer = None

    def connection_made(self, transport) -> None:
        super().connection_made(transport)
        self._arm()

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._arm()

    def on_headers_complete(self) -> None:
        self._disarm()
        super().on_headers_complete()

    def connection_lost(self, exc) -> None:
        self._disarm()
        super().connection_lost(exc)

    def _arm(self) -> None:
        if self._timer is None:
            self._timer = self.loop.call_later(REQUEST_TIMEOUT, self._too_slow)

    def _disarm(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _too_slow(self) -> None:
        self._timer = None
        if self.transport is not None and not self.transport.is_closing():
            self.transport.close()
