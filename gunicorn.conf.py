"""gunicorn settings for GitLeague (read automatically from the working directory).

Every value can be overridden on the command line or with GUNICORN_CMD_ARGS.
"""

import gc
import multiprocessing
import os

bind = os.environ.get("BIND", "127.0.0.1:5000")
workers = int(os.environ.get("WORKERS", min(4, multiprocessing.cpu_count() * 2)))
# A 1,000-commit batch takes well under a second; two minutes leaves room for
# slow disks without letting a stuck worker live forever.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", 120))
graceful_timeout = 30
keepalive = 5
# Recycle workers now and then so that a slow leak in a dependency cannot grow forever.
max_requests = 5000
max_requests_jitter = 500
accesslog = "-"
access_log_format = '%(h)s "%(r)s" %(s)s %(b)s %(M)sms rid=%({x-request-id}o)s'
# The request line holds the query string: user info of any URL in it
# (a token in ?git_url=https://user:token@host/...) is logged as ***.
logger_class = "app.access_log.RedactingLogger"


def post_worker_init(worker):
    """Freeze what the loaded app allocated: it lives as long as the worker.

    A 1,000-commit batch allocates thousands of tracked objects, enough to
    trigger the cyclic collector's full passes; frozen objects are not
    rescanned by them, which took a third off the JSON decoding of a batch.
    """
    gc.freeze()
