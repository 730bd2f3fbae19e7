"""gunicorn settings for GitLeague (read automatically from the working directory).

Every value can be overridden on the command line or with GUNICORN_CMD_ARGS.
"""

import gc
import glob
import multiprocessing
import os
import shutil
import tempfile

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

if os.environ.get("GITLEAGUE_LOG_FORMAT") == "json":
    # gunicorn's own lines as JSON objects too (app/logs.py); the request id
    # gets its own field, so it leaves the message.
    access_log_format = '%(h)s "%(r)s" %(s)s %(b)s %(M)sms'
    _json = {"class": "logging.StreamHandler", "formatter": "json", "stream": "ext://sys.stderr"}
    logconfig_dict = {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": "app.logs.JsonFormatter"}},
        "handlers": {"json": _json},
        "root": {"level": "INFO", "handlers": []},
        "loggers": {
            name: {"level": "INFO", "handlers": ["json"], "propagate": False, "qualname": name}
            for name in ("gunicorn.error", "gunicorn.access")
        },
    }


def post_worker_init(worker):
    """Freeze what the loaded app allocated: it lives as long as the worker.

    A 1,000-commit batch allocates thousands of tracked objects, enough to
    trigger the cyclic collector's full passes; frozen objects are not
    rescanned by them, which took a third off the JSON decoding of a batch.
    """
    gc.freeze()


def _metrics_dir():
    """The folder for the workers' metric files (prometheus-client's multiprocess mode).

    Each worker writes its counters there and a scrape adds them all up
    (app/metrics.py). The variable must be set before any process imports
    prometheus_client, so it is set when this file is read, in the master,
    before the app is loaded (even with --preload) and workers are forked.
    """
    path = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if not path:
        path = tempfile.mkdtemp(prefix="gitleague-metrics-")
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = path
        _OWN_METRICS_DIR.append(path)
    return path


#: The metrics folder when gunicorn made it itself (removed on exit).
_OWN_METRICS_DIR = []
_METRICS_DIR = _metrics_dir()


def on_starting(server):
    """Empty the metrics folder: files of an earlier run would add old counts."""
    os.makedirs(_METRICS_DIR, exist_ok=True)
    for stale in glob.glob(os.path.join(_METRICS_DIR, "*.db")):
        os.remove(stale)


def child_exit(server, worker):
    """Drop a dead worker's live-gauge files (its counters keep counting in the sum)."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def on_exit(server):
    """Remove the metrics folder if gunicorn made it."""
    for path in _OWN_METRICS_DIR:
        shutil.rmtree(path, ignore_errors=True)
