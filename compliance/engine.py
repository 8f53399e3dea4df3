"""The durable-rules adapter: evaluates one application's facts against a compiled ruleset, safely.

Safe pattern (see README, "Движок"): rulesets compiled once per (catalog, parameter set) and registered under a
unique name; per evaluation a fresh session id; every fact some rule reads asserted (each with a unique id), then
one trigger fact last — all in one JSON array, one call into the engine, which handles the messages in order;
actions only record the rule name in a Python collector, run straight from the engine's action queue; an exception
in an action is kept and the session is deleted in ``finally``. One process-wide lock serialises every call into the C engine (it is not
thread-safe), and the host's background timer threads are never started.

Numbers: the engine's JSON reader takes an exponent only after a fraction (``1.0e-06``, not ``1e-06`` as Python
prints it) and 64-bit integers only; a number it cannot read fails the assertion (error 204) and deleting that
session then crashes the process. So rulesets and facts are serialised here by ``engine_json``, never by the host's
``json.dumps``, and every fact of a session is serialised before the session starts.
"""
from __future__ import annotations

import json
import math
import threading
import traceback
import uuid
from dataclasses import dataclass
from datetime import date
from typing import Any, Callable, Iterable

import durable_rules_engine
from durable import engine as durable

from .catalog import Catalog
from .compiler import CompiledRuleset, compile_catalog, signature

MAX_LIVE_SESSIONS = 1024
_INT64 = range(-2**63, 2**63)


# session_text gives every session the fact ids "0", "1", …: the engine tells facts apart by a 32-bit hash of the id,
# and in a batch a clash would drop a fact silently. Checked (tests/test_engine_pitfalls.py) that none of the first
# MAX_SESSION_FACTS ids clash; a session with more facts is refused rather than risked.
MAX_SESSION_FACTS = 120_000


class SessionTooLarge(ValueError):
    """More facts for one evaluation than MAX_SESSION_FACTS (the message is Russian)."""


class EngineValueError(ValueError):
    """A value the rules engine cannot represent (NaN, an infinity): refused before any call into the engine."""


def engine_number(value: int | float) -> str:
    """A number as the engine's JSON reader reads it back exactly: integers within 64 bits as digits; every other
    number as Python's shortest round-trip repr, with a fraction before any exponent (``1e-06`` -> ``1.0e-06``)."""
    if isinstance(value, int) and value in _INT64:
        return str(value)
    number = float(value)  # an integer beyond 64 bits becomes the nearest double (the engine would saturate it)
    if not math.isfinite(number):
        raise EngineValueError(f"число {value!r} не может быть передано движку правил")
    mantissa, e, exponent = repr(number).partition("e")
    if e and "." not in mantissa:
        mantissa += ".0"
    return mantissa + e + exponent


def engine_json(obj: Any) -> str:
    """JSON text of a fact or a ruleset definition in the form the C engine reads (numbers by ``engine_number``)."""
    if isinstance(obj, dict):
        return "{" + ",".join(f"{json.dumps(str(k), ensure_ascii=False)}:{engine_json(v)}" for k, v in obj.items()) + "}"
    if isinstance(obj, (list, tuple)):
        return "[" + ",".join(engine_json(v) for v in obj) + "]"
    if isinstance(obj, (int, float)) and not isinstance(obj, bool):
        return engine_number(obj)
    return json.dumps(obj, ensure_ascii=False)


def _plain(value: Any) -> bool:
    """A fact value that Python's JSON writer prints exactly as ``engine_json`` would: a string, a boolean, null, an
    integer within 64 bits, or a finite float that Python prints without an exponent (``repr`` uses one below 1e-4
    and from 1e16 on)."""
    if value is None or isinstance(value, (str, bool)):
        return True
    if isinstance(value, int):
        return value in _INT64
    if isinstance(value, float):
        return value == 0.0 or 1e-4 <= abs(value) < 1e16
    return False


def _all_plain(facts: list[dict[str, Any]]) -> bool:
    """Every value of every fact is ``_plain`` (strings, booleans and null, most values, are passed over at once)."""
    for fact in facts:
        for v in fact.values():
            if v.__class__ is not str and v is not None and v is not True and v is not False and not _plain(v):
                return False
    return True


def session_text(sid: str, facts: list[dict[str, Any]]) -> str:
    """The facts of one session and the trigger fact last, as one JSON array in the form the C engine reads. Ids are
    the positions in the session ("0", "1", …, "trigger"): unique within the session, which is all the engine needs,
    and the same strings in every session (tests/test_engine_pitfalls.py checks that their 32-bit hashes never clash).
    Flat facts whose numbers Python prints exactly are written by the C JSON writer in one call; anything else (an
    exponent, a number beyond 64 bits, a nested value) by ``engine_json``, which also refuses NaN and infinities."""
    rows = [{**fact, "sid": sid, "id": str(i)} for i, fact in enumerate(facts)]
    rows.append({"sid": sid, "id": "trigger", "t": "trigger"})
    if _all_plain(facts):
        return json.dumps(rows, ensure_ascii=False, separators=(",", ":"))
    return "[" + ",".join(engine_json(row) for row in rows) + "]"


class _Match:
    """What an action sees of the rule that fired: ``c.s["sid"]`` (the session) and the matched facts by the names
    of the rule's patterns (``c.p["key"]``), read from the engine's message only when an action asks for them."""

    __slots__ = ("s", "_rule", "_text")

    def __init__(self, sid: str, rule: str, text: str) -> None:
        self.s, self._rule, self._text = {"sid": sid}, rule, text

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        return json.loads(self._text)[self._rule][name]


class _ExactRuleset(durable.Ruleset):
    """A plain durable ruleset whose definition and facts are serialised by ``engine_json``."""

    def __init__(self, name: str, host: "_QuietHost", definition: dict[str, dict[str, Any]]) -> None:
        self._actions = {rule: durable.Promise(body["run"]) for rule, body in definition.items()}
        self._run = {rule: body["run"] for rule, body in definition.items()}
        self._name, self._host = name, host
        self._definition = {rule: {k: v for k, v in body.items() if k != "run"} for rule, body in definition.items()}
        self._handle = durable_rules_engine.create_ruleset(name, engine_json(self._definition))

    def assert_text(self, text: str):
        return self._handle_result(durable_rules_engine.assert_fact(self._handle, text), text)

    def run_session(self, sid: str, text: str) -> str | None:
        """Assert every fact of a session at once (``session_text``: the trigger last), then run the actions of the
        rules the engine fired, in the engine's order, straight from its action queue (as durable's host does, without
        its per-action state copies). An exception in an action is kept (the last one, as the host keeps it in the
        session state) and the other actions still run; returns it, or None."""
        code, state = durable_rules_engine.assert_facts(self._handle, text)
        if code == 2:  # a fact id seen twice in the session: session_text's ids are unique, so a bug
            raise durable.MessageObservedException(text[:200])
        exception = None
        started = durable_rules_engine.start_action_for_state(self._handle, state)
        message = started[1] if started else None
        while message:
            rule = message[2:message.find('"', 2)]  # the message is {"<rule name>": {<matched facts>}}
            if rule not in self._run:
                rule = next(iter(json.loads(message)))
            try:
                self._run[rule](_Match(sid, rule, message))
            except BaseException as error:  # noqa: BLE001 - recorded, as durable's host records it
                exception = f"exception caught {error}, traceback {traceback.format_tb(error.__traceback__)}"
            message = durable_rules_engine.complete_and_start_action(self._handle, state)
        return exception


class _QuietHost(durable.Host):
    """A durable host without the two background dispatch threads (they call the C engine unlocked), whose rulesets
    read numbers exactly (``_ExactRuleset``)."""

    def _run(self) -> None:  # noqa: D401 - overriding the thread starter
        return None

    def register_rulesets(self, definitions: dict[str, dict]) -> list[str]:
        for name, definition in definitions.items():
            if name in self._ruleset_directory:
                raise ValueError(f"набор правил {name} уже зарегистрирован")
            ruleset = _ExactRuleset(name, self, definition)
            self._ruleset_directory[name] = ruleset
            self._ruleset_list.append(ruleset)
        return list(definitions)

    def assert_text(self, ruleset_name: str, text: str):
        """Assert one fact already serialised by ``engine_json``."""
        rules = self.get_ruleset(ruleset_name)
        return self._handle_function(rules, rules.assert_text, text, None)


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
        self._names: dict[tuple[str, str, date], tuple[Catalog, str]] = {}  # -> (the catalog, its ruleset name)
        self._collector: dict[str, list[str]] = {}
        self.live_sessions = 0
        self.max_live_sessions_seen = 0

    # -- rulesets ----------------------------------------------------------------------------------------------
    def ruleset_for(self, catalog: Catalog, as_of: date) -> CompiledRuleset:
        # the signature of this catalog object on this date, computed once (a catalog built in memory with other
        # parameter values, e.g. a scenario, is another object and gets its own)
        key = (catalog.regime, catalog.content_hash, as_of)
        known = self._names.get(key)
        if known is None or known[0] is not catalog:
            if len(self._names) > 4096:  # a long-running service that saw many dates: start again rather than grow
                self._names.clear()
            known = self._names[key] = (catalog, f"{catalog.regime}_{signature(catalog, as_of)}")
        name = known[1]
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
        """Assert the facts (in the given order, those some rule of the ruleset reads), then the trigger, in one
        call; return the names of the rules that fired."""
        sid = uuid.uuid4().hex
        # serialised before the session exists: a value the engine cannot read is refused with nothing to clean up
        read = compiled.read(facts)
        if len(read) >= MAX_SESSION_FACTS:
            raise SessionTooLarge(f"в заявке слишком много элементов для одной проверки ({len(read)} сведений для "
                                  f"правил, не больше {MAX_SESSION_FACTS - 1}): разделите её")
        text = session_text(sid, read)
        with self._lock:
            if self.live_sessions >= MAX_LIVE_SESSIONS:
                raise EngineBusy("слишком много одновременных сессий движка правил")
            self.live_sessions += 1
            self.max_live_sessions_seen = max(self.max_live_sessions_seen, self.live_sessions)
            self._collector[sid] = []
            exception = None
            ruleset = self._host.get_ruleset(compiled.name)
            try:
                exception = ruleset.run_session(sid, text)
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


_ENGINE: RulesEngine | None = None
_ENGINE_LOCK = threading.Lock()


def get_engine() -> RulesEngine:
    global _ENGINE
    with _ENGINE_LOCK:
        if _ENGINE is None:
            _ENGINE = RulesEngine()
        return _ENGINE
