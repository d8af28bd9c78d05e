"""Live updates: admin pages follow creates, updates and deletes over a WebSocket.

    core.live.handlers.LiveHandler   /admin/live (authentication, subscriptions, filtering)
    core.live.hub.LiveHub            this process's sockets and its one feed (``app.live``)
    core.live.feed.AuditFeed         tails the append-only ``audit_log`` (every process)
    core.live.frames                 an event's WebSocket frame, built once for many sockets
    core.live.wake.LocalWake         processes on one embedded database wake each other's feed

See docs/live.md for the protocol, the permission rules and the measured latency.
"""
from .feed import AuditFeed, LiveEvent  # noqa: F401
from .handlers import LiveContext, LiveHandler  # noqa: F401
from .hub import LiveHub  # noqa: F401

__all__ = ["AuditFeed", "LiveContext", "LiveEvent", "LiveHandler", "LiveHub", "live_routes"]


def live_routes():
    """The URL spec of the live socket, for ``core.app.make_app``."""
    return [(r"/admin/live$", LiveHandler)]
