"""How long kiln waits for a client that has started a request. A connection whose request
headers have not arrived in full within REQUEST_TIMEOUT of the connection or of the
request's first byte is closed; one whose body stops arriving for REQUEST_TIMEOUT (the
timer moves on with every chunk) is answered 408 RequestTimeoutException and closed.
Without it, a few hundred half-sent requests stay open for ever (uvicorn times out only
idle keep-alive connections, between requests). Set by `kiln serve` (--request-timeout,
KILN_REQUEST_TIMEOUT). The timer lives in the protocol, so the app's body read costs nothing
extra; it is off while the app works on a complete request.

The protocol also answers a request that is not HTTP at all as the API answers errors
(uvicorn's own answer is text/plain, with no request id or error type)."""
from __future__ import annotations

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

REQUEST_TIMEOUT = 10.0


def set_request_timeout(seconds: float) -> None:
    global REQUEST_TIMEOUT
    REQUEST_TIMEOUT = seconds


class HeaderTimeoutProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with a timer from a request's first byte (or the
    connection) to its last, and API-shaped answers for what it refuses itself."""

    _timer = None
    _in_body = False

    def connection_made(self, transport) -> None:
        super().connection_made(transport)
        self._arm()

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._in_body = False
        self._arm()

    def on_headers_complete(self) -> None:
        super().on_headers_complete()
        self._in_body = True
        self._arm()

    def on_body(self, body: bytes) -> None:
        super().on_body(body)
        self._arm()  # still arriving: the wait starts again

    def on_message_complete(self) -> None:
        self._disarm()
        self._in_body = False
        super().on_message_complete()

    def connection_lost(self, exc) -> None:
        self._disarm()
        super().connection_lost(exc)

    def send_400_response(self, msg: str) -> None:
        from kiln import errors

        self._answer("400 Bad Request", errors.InvalidRequestException(f"The request is not valid HTTP: {msg}"))

    def _arm(self) -> None:
        self._disarm()
        self._timer = self.loop.call_later(REQUEST_TIMEOUT, self._too_slow)

    def _disarm(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _too_slow(self) -> None:
        self._timer = None
        if self.transport is None or self.transport.is_closing():
            return
        cycle = self.cycle
        if self._in_body and cycle is not None and not cycle.response_started:
            from kiln import errors

            cycle.response_complete = True  # the app's own answer, if it ever comes, is not sent
            self._answer("408 Request Timeout", errors.RequestTimeoutException(
                f"The request body did not arrive within {REQUEST_TIMEOUT:g} seconds."))
            cycle.disconnected = True
            cycle.message_event.set()  # the app's body read ends
        else:
            self.transport.close()

    def _answer(self, status_line: str, error) -> None:
        """Write `error` as the API writes errors, then close the connection."""
        from kiln.core import error_response, new_request_id

        response = error_response(error, new_request_id())
        head = [f"HTTP/1.1 {status_line}\r\n".encode()]
        for name, value in {**response.headers, "content-length": str(len(response.body)),
                            "connection": "close"}.items():
            head.append(f"{name}: {value}\r\n".encode("latin-1"))
        self.transport.write(b"".join(head) + b"\r\n" + response.body)
        self.transport.close()
