"""Locate each requirement of a catalog in the text of its act and compare the dated parameters with the values the
located clause states.

Words are compared by their dictionary form (pymorphy3: «гектаров», «гектара» -> «гектар»), weighted by how rare they
are in the act (a word every point has says little). Numbers are read in digits and in words (the word forms of
num2words, reduced to the dictionary form: «восьми» -> «восемь» -> 8; «половина» -> 50 %), with the unit that follows
(«8 гектаров», «0,15 МВт на 1 га», «не менее 50 процентов», «пяти лет»).

Outcome per requirement and per parameter: confirmed (the clause and the sentence), contradicted (the value found and
the catalog's), ambiguous (candidates, each with its sentence), not located. An amendment act («Изменения, которые
вносятся в …») gives per parameter the new value it proposes and the date it takes effect.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache

from .acttext import ActText, Point
from .catalog import Catalog, Parameter, ParamValue, cited_params

CONFIRMED, CONTRADICTED, AMBIGUOUS, NOT_LOCATED = "confirmed", "contradicted", "ambiguous", "not_located"
OUTCOME_RU = {CONFIRMED: "подтверждено", CONTRADICTED: "расходится с текстом", AMBIGUOUS: "неоднозначно",
              NOT_LOCATED: "не найдено в тексте"}
LOCATE_THRESHOLD = 0.34  # share of the requirement's (weighted) words a clause must have
VALUE_BONUS = 0.15  # added to the score of a clause stating a number in the unit of the requirement's parameter
SURE_THRESHOLD = 0.5  # below it a clause is only confirmed by the parameter's value it states
AMBIGUITY_RATIO = 0.85  # a second clause scoring this close to the best is a rival candidate

# abbreviations of the catalogs and of the acts, spelt out on both sides before comparing
ABBREVIATIONS = {
    "ук": "управляющая компания", "га": "гектар", "мвт": "мегаватт", "км": "километр", "рф": "российская федерация",
    "гисп": "государственная информационная система промышленности", "ври": "вид разрешенного использования",
    "минпромторг": "министерство промышленности и торговли", "ту": "технические условия",
}
UNIT_WORDS = {"гектар": "ha", "процент": "%", "%": "%", "мегаватт": "MW", "километр": "km", "метр": "m",
              "год": "years", "день": "days", "месяц": "months"}
SKIP_POS = {"PREP", "CONJ", "PRCL", "NPRO", "INTJ", "PRED"}
UNIT_QUERY = {"m2": "квадратный метр", "ha": "гектар", "%": "процент", "MW/ha": "мегаватт гектар", "km": "километр", "years": "год"}
FRACTIONS = {"половина": 50.0, "треть": 100 / 3, "четверть": 25.0}


@lru_cache(maxsize=1)
def _morph():
    import pymorphy3

    return pymorphy3.MorphAnalyzer()


@lru_cache(maxsize=50000)
def _lemma(word: str) -> tuple[str, str]:
    parse = _morph().parse(word)[0]
    return parse.normal_form.replace("ё", "е"), str(parse.tag.POS or "")


@lru_cache(maxsize=1)
def _number_words() -> dict[str, int]:
    """The dictionary form of every number word used for 0..1000 -> its value (units, tens, hundreds)."""
    from num2words import num2words

    table: dict[str, int] = {}
    for n in list(range(0, 20)) + list(range(20, 100, 10)) + list(range(100, 1001, 100)):
        words = num2words(n, lang="ru").split()
        if len(words) == 1:
            table[_lemma(words[0])[0]] = n
    table.setdefault("один", 1)
    return table


def _tokens(text: str) -> list[str]:
    text = text.lower().replace("ё", "е")
    return re.findall(r"\d+(?:[.,]\d+)?|%|[а-яa-z]+", text)


def lemmas(text: str) -> list[str]:
    """The content words of a text in dictionary form, abbreviations spelt out."""
    out = []
    for tok in _tokens(text):
        if tok[0].isdigit() or tok == "%":
            continue
        for word in ABBREVIATIONS.get(tok, tok).split():
            lemma, pos = _lemma(word)
            if pos not in SKIP_POS and len(lemma) > 1:
                out.append(lemma)
    return out


# --- quantities ----------------------------------------------------------------------------------------------
@dataclass
class Quantity:
    value: float
    unit: str | None  # ha, %, MW/ha, km, years, days, or None (a count)
    start: int  # token position

    def text(self) -> str:
        v = f"{self.value:g}".replace(".", ",")
        return f"{v} {UNIT_RU.get(self.unit, '') if self.unit else ''}".strip()


UNIT_RU = {"m2": "кв. м", "ha": "га", "%": "%", "MW/ha": "МВт на 1 га", "MW": "МВт", "km": "км", "m": "м", "years": "лет",
           "days": "дней", "months": "месяцев", "pcs": "шт."}


def quantities(text: str) -> list[Quantity]:
    toks = _tokens(text)
    lem = [tok if tok[0].isdigit() or tok == "%" else _lemma(ABBREVIATIONS.get(tok, tok).split()[0])[0]
           for tok in toks]
    words = _number_words()
    out: list[Quantity] = []
    i = 0
    while i < len(toks):
        start, value = i, None
        if toks[i][0].isdigit():
            value = float(toks[i].replace(",", "."))
            i += 1
        elif lem[i] in words:
            value = 0.0
            while i < len(toks) and lem[i] in words:
                value += words[lem[i]]
                i += 1
        elif lem[i] in FRACTIONS:
            out.append(Quantity(FRACTIONS[lem[i]], "%", i))
            i += 1
            continue
        else:
            i += 1
            continue
        if i < len(toks) and lem[i] in ("тысяча", "тыс"):  # «5 тыс. кв. метров», «пяти тысяч»
            value *= 1000
            i += 1
        j = i
        if j < len(toks) and lem[j] in ("рабочий", "календарный"):
            j += 1
        square = j + 1 < len(toks) and lem[j] in ("квадратный", "кв") and lem[j + 1] in ("метр", "м")
        if square:
            j += 1
        unit = ("m2" if square else UNIT_WORDS.get(lem[j])) if j < len(toks) else None
        if unit == "MW" and j + 2 < len(toks) and lem[j + 1] == "на" and \
                (toks[j + 2] == "1" or lem[j + 2] == "один") and j + 3 < len(toks) and lem[j + 3] == "гектар":
            unit, j = "MW/ha", j + 3
        elif unit == "MW" and j + 2 < len(toks) and lem[j + 1] == "на" and lem[j + 2] == "гектар":
            unit, j = "MW/ha", j + 2
        if _is_reference(toks, lem, start):
            continue  # «пункта 5», «№ 794», a date
        out.append(Quantity(value, unit, start))
        i = max(i, j + 1 if unit else i)
    return out


def _is_reference(toks: list[str], lem: list[str], i: int) -> bool:
    prev = lem[i - 1] if i else ""
    return prev in ("пункт", "подпункт", "приложение", "статья", "часть", "раздел", "глава") or \
        (i + 1 < len(toks) and re.fullmatch(r"\d{4}", toks[i + 1] or "") is not None)


def _unit_matches(param: Parameter, q: Quantity) -> bool:
    unit = param.unit
    if unit in ("ha", "%", "MW/ha", "km", "years", "m2"):
        return q.unit == unit
    if unit == "pcs":
        return q.unit is None
    return q.unit in (None, "days") if "срок" in param.title.lower() or "дн" in param.title.lower() else q.unit is None


def _numeric(pv: ParamValue | None) -> float | None:
    if pv is None or isinstance(pv.value, bool) or not isinstance(pv.value, (int, float)):
        return None
    return float(pv.value)


# --- outcomes ------------------------------------------------------------------------------------------------
@dataclass
class Candidate:
    point: Point
    score: float
    sentence: str
    value: Quantity | None = None

    @property
    def clause(self) -> str:
        return self.point.label


@dataclass
class ParamOutcome:
    name: str
    title: str
    unit: str | None
    outcome: str
    catalog_value: float | None
    catalog_from: date | None
    found: Quantity | None = None
    clause: str | None = None
    sentence: str | None = None
    candidates: list[Candidate] = field(default_factory=list)
    effective: date | None = None  # an amendment: when the new value takes effect
    requirement: str | None = None


@dataclass
class ReqOutcome:
    id: str
    title: str
    norm: str
    outcome: str
    candidates: list[Candidate]
    params: list[ParamOutcome] = field(default_factory=list)
    note: str | None = None

    @property
    def best(self) -> Candidate | None:
        return self.candidates[0] if self.candidates else None


@dataclass
class Verification:
    regime: str
    act: ActText
    on: date | None  # the date whose catalog values are compared (the edition's)
    edition_from: str  # how `on` was found, in Russian
    requirements: list[ReqOutcome]
    params: list[ParamOutcome]
    warnings: list[str] = field(default_factory=list)
    other_act: str | None = None  # the text is not the catalog's act nor an amendment of it: nothing is applied

    def counts(self) -> dict[str, int]:
        out = {k: 0 for k in OUTCOME_RU}
        for r in self.requirements:
            out[r.outcome] += 1
        return out


def sentences(point: Point) -> list[str]:
    """The sentences of a point: each paragraph (an indent, a table row) split after «.», «;», «:»."""
    out = []
    for para in point.paragraphs:
        out += [s.strip() for s in re.split(r"(?<=[.;:])\s+(?=[А-ЯЁA-Z«(])", para) if s.strip()]
    return out


class _Index:
    """Lemma sets of every point of the act and the inverse document frequency of each lemma."""

    def __init__(self, act: ActText):
        self.points = [p for p in act.points() if p.text]
        self.sets = [set(lemmas(p.text)) for p in self.points]
        n = len(self.points)
        df: dict[str, int] = {}
        for s in self.sets:
            for lem in s:
                df[lem] = df.get(lem, 0) + 1
        self.idf = {lem: math.log(1 + n / c) for lem, c in df.items()}
        self.default_idf = math.log(1 + n)

    def rank(self, query: set[str]) -> list[tuple[float, Point]]:
        total = sum(self.idf.get(q, self.default_idf) for q in query) or 1.0
        scored = [(sum(self.idf[q] for q in query & s) / total, p) for s, p in zip(self.sets, self.points)]
        return sorted(scored, key=lambda x: -x[0])


def _best_sentence(point: Point, query: set[str], param: Parameter | None = None,
                   idf: dict[str, float] | None = None) -> tuple[str, Quantity | None]:
    """The sentence of the point that states the parameter's value, else the one sharing the rarest words."""
    best, best_score, best_q = point.text, -1.0, None
    for s in sentences(point):
        qs = [q for q in quantities(s) if param is not None and _unit_matches(param, q)]
        score = sum((idf or {}).get(w, 1.0) for w in query & set(lemmas(s))) + (1000 if qs else 0)
        if score > best_score:
            best, best_score, best_q = s, score, (qs[0] if qs else None)
    return best, best_q


def _rule_params(catalog: Catalog, rid: str) -> list[str]:
    rule = catalog.rules.get(rid)
    return [n for n in cited_params(rule) if n in catalog.rulebook.parameters] if rule is not None else []


def _query(catalog: Catalog, rid: str) -> set[str]:
    req = catalog.requirements[rid]
    text = f"{req.title} {req.text}"
    for name in _rule_params(catalog, rid):
        text += " " + catalog.rulebook.parameters[name].title
    return set(lemmas(text))


def _norm_text(catalog: Catalog, rid: str, on: date | None) -> str:
    from .word import _substitute

    rule = catalog.rules.get(rid)
    req = catalog.requirements[rid]
    norms = [v.norm_text for v in rule.variants if v.norm_text] if rule else []
    text = "; ".join(_substitute(catalog, n, rule, on) for n in norms)
    return f"{req.text} Норма: {text}." if text else req.text


def _edition_date(catalog: Catalog, act: ActText, edition: date | None) -> tuple[date | None, str]:
    if edition is not None:
        return edition, "указана при запуске"
    if act.is_amendment:
        return act.effective, "дата вступления изменений в силу по тексту акта" if act.effective else "не указана"
    if act.edition is None:
        if act.act_date:
            return act.act_date, "редакция в тексте не указана — взята дата акта"
        return None, "не указана"
    # the catalog knows when each amending act took effect
    stamp = act.edition.strftime("%d.%m.%Y")
    for a in catalog.decree.amendments:
        if stamp in a.act and a.effective:
            return a.effective, f"редакция от {stamp}, вступила в силу {a.effective.strftime('%d.%m.%Y')}"
    return act.edition, f"редакция от {stamp}"


def _check_param(catalog: Catalog, name: str, on: date | None, cands: list[tuple[float, Point]],
                 query: set[str], rid: str, idf: dict[str, float]) -> ParamOutcome:
    param = catalog.rulebook.parameters[name]
    pv = param.at(on) if on else (param.values[-1] if param.values else None)
    expected = _numeric(pv)
    out = ParamOutcome(name, param.title, param.unit, NOT_LOCATED, expected, pv.start if pv else None,
                       requirement=rid)
    hits = []
    for score, point in cands:
        sentence, q = _best_sentence(point, query, param, idf)
        if q is not None:
            hits.append(Candidate(point, score, sentence, q))
    if not hits or expected is None:
        return out
    values = {round(h.value.value, 6) for h in hits}
    if len(values) > 1:
        out.outcome, out.candidates = AMBIGUOUS, hits
        return out
    hit = hits[0]
    out.found, out.clause, out.sentence = hit.value, hit.clause, hit.sentence
    out.outcome = CONFIRMED if abs(hit.value.value - expected) < 1e-9 else CONTRADICTED
    return out


def verify(catalog: Catalog, act: ActText, edition: date | None = None) -> Verification:
    on, how = _edition_date(catalog, act, edition)
    warnings: list[str] = []
    mismatch = _other_act(catalog, act)
    if mismatch:
        warnings.append(mismatch)
    if on is None:
        warnings.append("дата редакции не найдена в тексте: значения сравниваются с последними значениями каталога; "
                        "укажите дату редакции (--edition)")
    if act.is_amendment:
        return _verify_amendment(catalog, act, on, how, warnings)
    index = _Index(act)
    reqs: list[ReqOutcome] = []
    for rid, req in catalog.requirements.items():
        query = _query(catalog, rid)
        names = _rule_params(catalog, rid)
        ranked = sorted(((s + _value_bonus(catalog, names, p), p) for s, p in index.rank(query)), key=lambda x: -x[0])
        ranked = [(s, p) for s, p in ranked if s >= LOCATE_THRESHOLD]
        top = [(s, p) for s, p in ranked if s >= ranked[0][0] * AMBIGUITY_RATIO] if ranked else []
        params = [_check_param(catalog, n, on, top, query, rid, index.idf) for n in names
                  if _numeric(catalog.rulebook.parameters[n].values[-1]) is not None]
        # a candidate stating the parameter's value settles which of the rivals is the clause
        with_value = [c for p in params for c in ([p] if p.clause else [])]
        if len(top) > 1 and with_value and all(p.outcome in (CONFIRMED, CONTRADICTED) for p in params):
            top = [(s, pt) for s, pt in top if pt.label == with_value[0].clause]
        cands = [Candidate(p, s, _best_sentence(p, query, idf=index.idf)[0]) for s, p in top]
        if not cands:
            outcome = NOT_LOCATED
        elif len(cands) > 1 or any(p.outcome == AMBIGUOUS for p in params):
            outcome = AMBIGUOUS
        elif any(p.outcome == CONTRADICTED for p in params):
            outcome = CONTRADICTED
        elif cands[0].score < SURE_THRESHOLD and not any(p.outcome == CONFIRMED for p in params):
            outcome = AMBIGUOUS
        else:
            outcome = CONFIRMED
        note = None
        if outcome == AMBIGUOUS and len(cands) == 1:
            note = "формулировки совпадают слабо — проверьте, тот ли это пункт"
        if outcome == CONFIRMED and any(p.outcome == NOT_LOCATED for p in params):
            note = "пункт найден, но значение норматива в нём не найдено — сверьте его вручную"
        reqs.append(ReqOutcome(rid, req.title, _norm_text(catalog, rid, on), outcome, cands, params, note))
    params = _merge_params(reqs)
    return Verification(catalog.regime, act, on, how, reqs, params, warnings, mismatch)


def _value_bonus(catalog: Catalog, names: list[str], point: Point) -> float:
    """A clause stating a number in the unit of one of the requirement's parameters is likelier its clause."""
    params = [catalog.rulebook.parameters[n] for n in names]
    params = [p for p in params if p.unit in UNIT_QUERY]
    if not params:
        return 0.0
    found = quantities(point.text)
    return VALUE_BONUS if any(_unit_matches(p, q) for p in params for q in found) else 0.0


def _other_act(catalog: Catalog, act: ActText) -> str | None:
    """Why the text is not the catalog's act (or an amendment of it), or None."""
    number = catalog.decree.act.number
    if act.is_amendment:
        target = " ".join(p.title for p in act.parts if p.title.lower().startswith("изменения"))
        if not re.search(rf"№\s*{re.escape(number)}(?!\d)", target):
            return f"изменения вносятся не в акт № {number}, по которому составлен каталог: «{target}»"
        return None
    if act.act_number and act.act_number != number:
        return f"в тексте акт № {act.act_number}, а каталог составлен по акту № {number}"
    return None


def _merge_params(reqs: list[ReqOutcome]) -> list[ParamOutcome]:
    """One outcome per parameter: where several requirements use it, the most telling one."""
    order = {CONTRADICTED: 0, AMBIGUOUS: 1, CONFIRMED: 2, NOT_LOCATED: 3}
    best: dict[str, ParamOutcome] = {}
    for r in reqs:
        for p in r.params:
            if p.name not in best or order[p.outcome] < order[best[p.name].outcome]:
                best[p.name] = p
    return list(best.values())


def _verify_amendment(catalog: Catalog, act: ActText, on: date | None, how: str,
                      warnings: list[str]) -> Verification:
    """Each amending point that gives a new wording («заменить словами «…»», «изложить в следующей редакции»):
    the parameter it changes (unit and words) and its new value."""
    index = _Index(act)
    out: list[ParamOutcome] = []
    for name, param in catalog.rulebook.parameters.items():
        pv = param.at(on) if on else param.values[-1]
        expected = _numeric(pv) if pv else _numeric(param.values[-1])
        if expected is None and _numeric(param.values[-1]) is None:
            continue
        rids = [rid for rid in catalog.requirements if name in _rule_params(catalog, rid)]
        unit_word = UNIT_QUERY.get(param.unit or "", "")
        query = set(lemmas(" ".join([param.title, unit_word] + [catalog.requirements[r].title for r in rids])))
        hits = []
        for score, point in index.rank(query):
            if score < (0.1 if unit_word else 0.2):
                break
            new = _new_wording(point.text)
            qs = [q for q in quantities(new) if _unit_matches(param, q)] if new else []
            if qs:
                hits.append(Candidate(point, score, point.text, qs[0]))
        po = ParamOutcome(name, param.title, param.unit, NOT_LOCATED, expected, pv.start if pv else None,
                          requirement=rids[0] if rids else None, effective=on)
        if len({round(h.value.value, 6) for h in hits}) > 1:
            po.outcome, po.candidates = AMBIGUOUS, hits
        elif hits:
            h = hits[0]
            po.found, po.clause, po.sentence = h.value, h.clause, h.sentence
            po.outcome = CONFIRMED if expected is not None and abs(h.value.value - expected) < 1e-9 else CONTRADICTED
        out.append(po)
    if on is None:
        warnings.append("в акте об изменениях не найдена дата вступления в силу: укажите её (--edition)")
    return Verification(catalog.regime, act, on, how, [], out, warnings, _other_act(catalog, act))


def _new_wording(text: str) -> str | None:
    m = re.search(r"(?:заменить\s+(?:словами|цифрами|текстом)|изложить\s+в\s+следующей\s+редакции:?|дополнить\s+"
                  r"(?:словами|абзацем|подпунктом)[^«]*)\s*[«\"](.+?)[»\"](?:\s*[.;]|$)", text)
    return m.group(1) if m else None
