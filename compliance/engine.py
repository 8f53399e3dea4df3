"""The durable-rules adapter: evaluates one application's facts against a compiled ruleset, safely.

Safe pattern (see README, "Движок"): rulesets compiled once per (catalog, parameter set) and registered under a
unique name; per evaluation a fresh session id; every fact asserted (each with a unique id), then one trigger
fact last; actions only record the rule name in a Python collector; the session's ``exception`` is checked and
the session is deleted in ``finally``. One process-wide lock serialises every call into the C engine (it is not
thread-safe), and the host's background timer threads are never started.
"""
from __future__ import annotations

import threading
import uuid
from dataclasses import dataclass
from datetime import date
from typing import Any, Callable, Iterable

from durable import engine as durable

from .catalog import Catalog
from .compiler import CompiledRuleset, compile_catalog, signature

MAX_LIVE_SESSIONS = 1024


class _QuietHost(durable.Host):
    """A durable host without the two background dispatch threads (they call the C engine unlocked)."""

    def _run(self) -> None:  # noqa: D401 - overriding the thread starter
        return None


@dataclass
class EngineResult:
    fired: list[str]
    exception: str | None
    session_id: str
    items: dict[str, set[str]] = None  # per-item rule name -> keys of the items it fired for


class EngineBusy(RuntimeError):
    pass


class RulesEngine:
    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._host = _QuietHost()
        self._compiled: dict[str, CompiledRuleset] = {}
        self._collector: dict[str, list[str]] = {}
        self.live_sessions = 0
        self.max_live_sessions_seen = 0

    # -- rulesets ----------------------------------------------------------------------------------------------
    def ruleset_for(self, catalog: Catalog, as_of: date) -> CompiledRuleset:
        name = f"{catalog.regime}_{signature(catalog, as_of)}"
        with self._lock:
            if name not in self._compiled:
                compiled = compile_catalog(catalog, as_of)
                definition = {rule: dict(body, run=self._action(rule)) for rule, body in compiled.rules.items()}
                self._host.set_rulesets({compiled.name: definition})
                self._compiled[name] = compiled
            return self._compiled[name]

    def _action(self, rule_name: str) -> Callable[[Any], None]:
        if "|item_" in rule_name:  # per-item rules also record which item they fired for
            def record_item(c) -> None:
                self._collector[c.s["sid"]].append(f"{rule_name}#{c.p['key']}")
            return record_item

        def record(c) -> None:
            self._collector[c.s["sid"]].append(rule_name)
        return record

    # -- evaluation --------------------------------------------------------------------------------------------
    def run(self, compiled: CompiledRuleset, facts: Iterable[dict[str, Any]]) -> EngineResult:
        """Assert the facts (in the given order), then the trigger; return the names of the rules that fired."""
        sid = uuid.uuid4().hex
        with self._lock:
            if self.live_sessions >= MAX_LIVE_SESSIONS:
                raise EngineBusy("слишком много одновременных сессий движка правил")
            self.live_sessions += 1
            self.max_live_sessions_seen = max(self.max_live_sessions_seen, self.live_sessions)
            self._collector[sid] = []
            exception = None
            try:
                for i, fact in enumerate(facts):
                    self._assert(compiled.name, {**fact, "sid": sid, "id": f"{sid}:{i}"})
                self._assert(compiled.name, {"sid": sid, "id": f"{sid}:trigger", "t": "trigger"})
                state = self._host.get_state(compiled.name, sid)
                exception = state.get("exception")
            except durable.MessageObservedException as exc:  # a duplicate fact: our ids are unique, so a bug
                exception = f"повторный факт: {exc}"
            finally:
                recorded = self._collector.pop(sid, [])
                try:
                    self._host.delete_state(compiled.name, sid)
                finally:
                    self.live_sessions -= 1
            items: dict[str, set[str]] = {}
            fired = []
            for entry in recorded:
                name, _, key = entry.partition("#")
                fired.append(name)
                if key:
                    items.setdefault(name, set()).add(key)
            return EngineResult(fired, exception, sid, items)

    def _assert(self, ruleset: str, fact: dict[str, Any]) -> None:
        try:
            self._host.assert_fact(ruleset, fact)
        except durable.MessageNotHandledException:
            pass  # a fact that only feeds joins, or that no rule reads


_ENGINE: RulesEngine | None = None
_ENGINE_LOCK = threading.Lock()


def get_engine() -> RulesEngine:
    global _ENGINE
    with _ENGINE_LOCK:
        if _ENGINE is None:
            _ENGINE = RulesEngine()
        return _ENGINE
