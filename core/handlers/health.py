"""``GET /healthz``: 200 when the database answers a ping, else 503."""
import asyncio
import logging

from .base import BaseHandler

log = logging.getLogger("bastion.health")


class HealthHandler(BaseHandler):
    """Answers ``{"status": "ok"}`` (200) or ``{"status": "unavailable"}`` (503).

    The ping is bounded by ``DATABASE_PING_TIMEOUT`` seconds, so a load balancer
    always gets an answer. Never cached.
    """

    #: no session lookup: a probe carries no login, and a database outage must
    #: answer 503 here, not fail while loading a user
    load_user = False

    def compute_etag(self):
        """No ETag: a health check must never be answered 304."""
        return None

    async def get(self):
        healthy = await self.database_answers()
        self.set_header("Cache-Control", "no-store")
        self.write_json({"status": "ok" if healthy else "unavailable"},
                        status=200 if healthy else 503)

    async def head(self):
        healthy = await self.database_answers()
        self.set_header("Cache-Control", "no-store")
        self.set_status(200 if healthy else 503)
        self.finish()

    async def database_answers(self):
        """True when the database answers a ping within ``DATABASE_PING_TIMEOUT``. The ping
        runs in the request's own task (``asyncio.timeout``, not ``wait_for``, which makes a
        task of it): on the embedded store it answers on the loop's thread at once, so a
        probe takes no extra turns of a busy event loop, each a wait behind whatever else
        is ready."""
        timeout = self.settings.get("DATABASE_PING_TIMEOUT", 2.0)
        try:
            async with asyncio.timeout(timeout):
                await self.db.ping()
        except Exception as exc:  # any failure, including a timeout or a closed db
            log.warning("health check: database did not answer: %s: %s",
                        type(exc).__name__, exc)
            return False
        return True
