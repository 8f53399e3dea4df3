"""Checksums of Russian registry identifiers (ИНН, ОГРН) and the cadastral number format."""
from __future__ import annotations

import re

CADASTRAL_RE = re.compile(r"^\d{2}:\d{2}:\d{6,7}:\d{1,7}$")


def _inn_digit(digits: str, weights: tuple[int, ...]) -> int:
    return sum(int(d) * w for d, w in zip(digits, weights)) % 11 % 10


def inn_problem(inn: str) -> str | None:
    """None when the INN is valid; otherwise a Russian explanation."""
    if not inn.isdigit() or len(inn) not in (10, 12):
        return "ИНН должен состоять из 10 цифр (организация) или 12 цифр (физическое лицо, ИП)"
    if len(inn) == 10:
        if _inn_digit(inn, (2, 4, 10, 3, 5, 9, 4, 6, 8)) != int(inn[9]):
            return "неверная контрольная цифра ИНН"
    else:
        d11 = _inn_digit(inn, (7, 2, 4, 10, 3, 5, 9, 4, 6, 8))
        d12 = _inn_digit(inn, (3, 7, 2, 4, 10, 3, 5, 9, 4, 6, 8))
        if (d11, d12) != (int(inn[10]), int(inn[11])):
            return "неверные контрольные цифры ИНН"
    return None


def ogrn_problem(ogrn: str) -> str | None:
    if not ogrn.isdigit() or len(ogrn) not in (13, 15):
        return "ОГРН должен состоять из 13 цифр (ОГРНИП — из 15)"
    if len(ogrn) == 13:
        check = int(ogrn[:12]) % 11 % 10
    else:
        check = int(ogrn[:14]) % 13 % 10
    if check != int(ogrn[-1]):
        return "неверная контрольная цифра ОГРН"
    return None


def make_inn10(prefix9: str) -> str:
    """A valid 10-digit INN from nine digits (used to build fixtures and test data)."""
    return prefix9 + str(_inn_digit(prefix9, (2, 4, 10, 3, 5, 9, 4, 6, 8)))


def make_ogrn13(prefix12: str) -> str:
    return prefix12 + str(int(prefix12) % 11 % 10)
