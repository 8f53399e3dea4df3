"""The input hash of an application: SHA-256 of its canonical JSON (the validated model dumped as JSON, keys sorted).

One definition for the service, which stores it with every version of an application, and for the judgements file,
which names the application version its judgements were made on (`compliance judgements bind`): the same
application gives the same hash whether it was checked by the CLI or stored on the web page."""
from __future__ import annotations

import hashlib
import json
from typing import Any

from .models import Application


LATER_SECTIONS = ("conformity_decisions",)


def input_hash(application: Application | dict[str, Any]) -> str:
    """The hash of a validated application, or of its JSON body as the service stores it (``model_dump(mode="json")``
    of the validated model — the same value for the same application)."""
    body = application.model_dump(mode="json") if isinstance(application, Application) else application
    # sections added after hashes were first given out count only when filled: an application without them keeps
    # the hash it always had (a bound judgements file still matches it)
    if any(not body.get(name, True) for name in LATER_SECTIONS):
        body = {k: v for k, v in body.items() if not (k in LATER_SECTIONS and not v)}
    canonical = json.dumps(body, ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()
