"""A real ``tornado.websocket`` client on the admin's live feed (``/admin/live``)."""
import asyncio
import json

import tornado.httpclient
import tornado.websocket


class Refused(Exception):
    """The upgrade was answered with an HTTP error (``code``)."""

    def __init__(self, code):
        super().__init__(code)
        self.code = code


class LiveClient:
    """One socket on ``/admin/live``; messages are JSON dicts, ``None`` once closed."""

    def __init__(self, connection):
        self.connection = connection
        self.hello = None

    @classmethod
    async def connect(cls, port, cookies=None, origin="same", host="127.0.0.1"):
        headers = {}
        if cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in cookies.items())
        if origin == "same":
            origin = f"http://{host}:{port}"
        if origin is not None:
            headers["Origin"] = origin
        request = tornado.httpclient.HTTPRequest(f"ws://{host}:{port}/admin/live",
                                                 headers=headers, request_timeout=10)
        try:
            connection = await tornado.websocket.websocket_connect(request)
        except tornado.httpclient.HTTPClientError as exc:
            raise Refused(exc.code) from None
        client = cls(connection)
        client.hello = await client.next()
        assert client.hello and client.hello["type"] == "hello", client.hello
        return client

    async def next(self, timeout=5.0):
        raw = await asyncio.wait_for(self.connection.read_message(), timeout)
        return None if raw is None else json.loads(raw)

    async def send(self, message):
        await self.connection.write_message(json.dumps(message))

    async def subscribe(self, model, id=None, ids=None):
        message = {"type": "subscribe", "model": model}
        if id is not None:
            message["id"] = id
        if ids is not None:
            message["ids"] = ids
        await self.send(message)
        return await self.next()

    async def event(self, timeout=5.0, **match):
        """The next event message matching ``match`` (others are skipped); fails on close."""
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            left = deadline - asyncio.get_running_loop().time()
            if left <= 0:
                raise AssertionError(f"no event matching {match} in {timeout} s")
            try:
                message = await self.next(left)
            except asyncio.TimeoutError:
                raise AssertionError(f"no event matching {match} in {timeout} s") from None
            if message is None:
                raise AssertionError(f"socket closed ({self.close_code}) before {match}")
            if message.get("type") == "event" and all(message.get(k) == v
                                                      for k, v in match.items()):
                return message

    async def silent(self, seconds):
        """The events that arrive within ``seconds`` (a list; ``[]`` is silence)."""
        got = []
        deadline = asyncio.get_running_loop().time() + seconds
        while True:
            left = deadline - asyncio.get_running_loop().time()
            if left <= 0:
                return got
            try:
                message = await self.next(left)
            except asyncio.TimeoutError:
                return got
            if message is None:
                return got
            if message.get("type") == "event":
                got.append(message)

    async def closed(self, timeout=5.0):
        """Wait for the server to close the socket; returns the close code."""
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            left = deadline - asyncio.get_running_loop().time()
            if left <= 0:
                raise AssertionError(f"socket still open after {timeout} s")
            message = await self.next(left)
            if message is None:
                return self.close_code

    @property
    def close_code(self):
        return self.connection.close_code

    def close(self):
        self.connection.close()
