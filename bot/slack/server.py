"""HTTP mode: a small threaded WSGI server (standard library) for Bolt's `/slack/events`.

Bolt's own development server answers one request at a time; this one gives
each request a thread, so twenty slash commands at once are all acknowledged
promptly. Bolt's request verification checks every request's signature.
"""

from __future__ import annotations

import logging
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler

log = logging.getLogger(__name__)

EVENTS_PATH = "/slack/events"


class _ThreadingWSGIServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True
    request_queue_size = 128  # the default of 5 resets connections in a burst


class _LoggingHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s " + format, self.address_string(), *args)


def http_server(app: App, host: str, port: int) -> WSGIServer:
    """A server bound to (host, port), not yet serving; port 0 picks a free one."""
    return make_server(
        host, port, SlackRequestHandler(app, path=EVENTS_PATH),
        server_class=_ThreadingWSGIServer, handler_class=_LoggingHandler,
    )
