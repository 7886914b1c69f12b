"""A live server for concurrency tests that serves requests on a BOUNDED pool of threads.

Django's LiveServerThread (and pytest-django's `live_server`) starts one thread per request,
and every thread opens its own database connection: 200 simultaneous requests would ask
PostgreSQL for 200 connections (it allows 100 by default). Here the accept loop hands each
connection to a `ThreadPoolExecutor`; connections beyond `max_workers` wait in the executor's
queue (and, before they are accepted, in a listen backlog of `request_queue_size`), so at most
`max_workers` requests — and database connections — are open at once.

Each worker closes its database connections after every request (Django already does so at
`request_finished` with CONN_MAX_AGE=0; closing again is harmless and also covers a request
that failed before the signal), so nothing is left open when the test database is flushed.
"""

import threading
from concurrent.futures import ThreadPoolExecutor

from django.core.handlers.wsgi import WSGIHandler
from django.core.servers.basehttp import WSGIRequestHandler, WSGIServer
from django.db import connections

DEFAULT_WORKERS = 16


class QuietRequestHandler(WSGIRequestHandler):
    """Django's development request handler without its access log (hundreds of 409 lines)."""

    def log_message(self, format, *args):
        pass


class PooledWSGIServer(WSGIServer):
    """Django's WSGIServer, its requests served by a fixed pool of worker threads.

    Not a `socketserver.ThreadingMixIn`, so Django's ServerHandler answers `Connection: close`:
    no idle keep-alive connection ever holds a worker.
    """

    request_queue_size = 256

    def __init__(self, *args, max_workers: int = DEFAULT_WORKERS, **kwargs):
        self.max_workers = max_workers
        self._pool = ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="pooled-liveserver")
        self._count_lock = threading.Lock()
        self.active = 0  # requests being served now
        self.peak_active = 0  # most requests served at once
        self.handled = 0  # requests finished
        self.threads: set[int] = set()  # the threads that served them (each holds one connection)
        super().__init__(*args, **kwargs)

    def process_request(self, request, client_address):
        self._pool.submit(self._serve, request, client_address)

    def _serve(self, request, client_address):
        with self._count_lock:
            self.active += 1
            self.peak_active = max(self.peak_active, self.active)
            self.threads.add(threading.get_ident())
        try:
            self.finish_request(request, client_address)
        except Exception:
            self.handle_error(request, client_address)
        finally:
            self.shutdown_request(request)
            connections.close_all()
            with self._count_lock:
                self.active -= 1
                self.handled += 1

    def server_close(self):
        super().server_close()
        # Requests already accepted are finished, never dropped.
        self._pool.shutdown(wait=True)


class PooledLiveServer:
    """Serve the Django project on 127.0.0.1 (a free port) from a background thread.

    Use as a context manager, or call `start()` and `stop()`.
    """

    def __init__(self, *, host: str = "127.0.0.1", max_workers: int = DEFAULT_WORKERS):
        self.host = host
        self.max_workers = max_workers
        self.httpd: PooledWSGIServer | None = None
        self._thread: threading.Thread | None = None
        self._stopped = False

    @property
    def url(self) -> str:
        if self.httpd is None:
            raise RuntimeError("the live server is not running")
        return f"http://{self.host}:{self.httpd.server_address[1]}"

    def start(self) -> "PooledLiveServer":
        self.httpd = PooledWSGIServer(
            (self.host, 0), QuietRequestHandler, max_workers=self.max_workers, allow_reuse_address=False
        )
        self.httpd.set_app(WSGIHandler())
        self._thread = threading.Thread(
            target=self.httpd.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="pooled-liveserver-accept",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop accepting, finish the requests already accepted, close the port (once)."""
        if self.httpd is None or self._stopped:
            return
        self._stopped = True
        self.httpd.shutdown()  # returns once serve_forever has stopped accepting
        self._thread.join(timeout=10)
        self.httpd.server_close()  # waits for the requests already accepted

    def __enter__(self) -> "PooledLiveServer":
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()
