"""WebSocket text frames built once and written as they are to many sockets.

A server's frame (RFC 6455 §5.2) is unmasked, so the bytes of one message are the
same on every socket: the hub encodes an event's message once per user and builds
its frame once, and each socket's stream gets those bytes (``LiveHandler.write_frame``).
The sockets negotiate no per-message compression, which would make frames differ.
"""
import struct

TEXT = 0x81                        # FIN + opcode 1 (text)


def text_frame(payload):
    """The whole frame (header + ``payload``, UTF-8 bytes) of one unfragmented text message."""
    size = len(payload)
    if size < 126:
        header = struct.pack("!BB", TEXT, size)
    elif size <= 0xFFFF:
        header = struct.pack("!BBH", TEXT, 126, size)
    else:
        header = struct.pack("!BBQ", TEXT, 127, size)
    return header + payload
