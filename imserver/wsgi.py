"""WSGI entry point: the HTTP workers (``granian --interface wsgi``; see README, Production).

The same Django application as ``imserver.asgi`` without the websockets, behind the same
request limits (:class:`imserver.limits.RequestLimitsWSGIMiddleware`). Synchronous workers
serve the REST API with no event-loop-to-thread hop per request: on the hot reads that is
several times the throughput of the ASGI gateway (docs/performance.md, "Serving topology").
"""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "imserver.settings")
django_application = get_wsgi_application()

from imserver.gctuning import tune_gc_for_server  # noqa: E402
from imserver.limits import RequestLimitsWSGIMiddleware  # noqa: E402

application = RequestLimitsWSGIMiddleware(django_application)
tune_gc_for_server()  # last: everything loaded so far is frozen out of the collector's scans
