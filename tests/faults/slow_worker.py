"""The project's Celery app with its units of work slowed down, for the fault tests: run as
`celery -A tests.faults.slow_worker worker`, a worker takes FAULT_DELAY_SECONDS over each
screening chunk (inside the chunk's transaction, holding its lock) and over each batch of a
registry import (between two committed batches), so that a test can kill it in the middle of a
job, with part of the job saved and part not; an import writes FAULT_WRITE_BATCH households
per batch (200 unless set), so a test file of a few hundred households takes several batches.
Nothing else differs from `celery -A fanpin`.
"""

import os
import time

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fanpin.settings")
django.setup()

from fanpin.celery import app  # noqa: E402  (after django.setup(): the services import models)
from households import importer  # noqa: E402
from screening import services  # noqa: E402

DELAY = float(os.environ.get("FAULT_DELAY_SECONDS", "1"))
importer.WRITE_BATCH = int(os.environ.get("FAULT_WRITE_BATCH", "200"))

_do_chunk = services.do_chunk
_import_registry = importer.import_registry


def slow_chunk(chunk):
    time.sleep(DELAY)
    return _do_chunk(chunk)


def slow_import(*args, progress=None, **kwargs):
    def slowed(step, done, total):
        if progress is not None:
            progress(step, done, total)
        if step == "write":
            time.sleep(DELAY)

    return _import_registry(*args, progress=slowed, **kwargs)


services.do_chunk = slow_chunk
importer.import_registry = slow_import

__all__ = ["app"]
