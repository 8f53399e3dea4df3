"""PDF documents: the Word document (word.py) converted by LibreOffice in headless mode, so the PDF and the .docx of
a report never differ.

Every conversion runs in its own temporary directory with its own LibreOffice user profile
(``-env:UserInstallation``): two conversions at once (two requests of the service, parallel tests) do not share a
profile, which LibreOffice would lock. The converter is ``soffice`` (or ``libreoffice``) on PATH, or the program named
by the setting COMPLIANCE_SOFFICE; a conversion that takes longer than the timeout is stopped with all its processes.
Errors are Russian (``PdfError``; ``ConverterMissing`` when there is no converter at all)."""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path
from typing import Mapping

INSTALL_HINT = ("установите LibreOffice (в Debian и Ubuntu: apt-get install libreoffice-writer-nogui) или укажите "
                "путь к программе soffice в переменной окружения COMPLIANCE_SOFFICE")
DEFAULT_TIMEOUT = 120.0


class PdfError(Exception):
    """A conversion that failed; the message is Russian and names no internal detail."""


class ConverterMissing(PdfError):
    """No LibreOffice on this machine."""


def find_converter(configured: str | None = None) -> str | None:
    """The converter program: ``configured`` (a path or a name on PATH), else the setting COMPLIANCE_SOFFICE, else
    soffice or libreoffice on PATH; None when there is none."""
    if configured is None:
        from .settings import get_settings

        configured = get_settings().soffice
    if configured:
        return shutil.which(configured)
    return shutil.which("soffice") or shutil.which("libreoffice")


def _timeout(timeout: float | None) -> float:
    if timeout is not None:
        return timeout
    from .settings import get_settings

    return get_settings().pdf_timeout


def docx_to_pdf(data: bytes, *, soffice: str | None = None, timeout: float | None = None) -> bytes:
    """The PDF of one Word document (bytes in, bytes out)."""
    return docx_to_pdf_many({"document": data}, soffice=soffice, timeout=timeout)["document"]


def docx_to_pdf_many(documents: Mapping[str, bytes], *, soffice: str | None = None,
                     timeout: float | None = None) -> dict[str, bytes]:
    """Several Word documents converted by one LibreOffice run (it starts once: a few seconds saved per document),
    by name: {"gap": b"PK…"} -> {"gap": b"%PDF…"}. Names are plain file names without an extension."""
    program = find_converter(soffice)
    if program is None:
        raise ConverterMissing(f"Не найдена программа для преобразования в PDF: {INSTALL_HINT}.")
    limit = _timeout(timeout)
    with tempfile.TemporaryDirectory(prefix="compliance-pdf-") as tmp:
        work = Path(tmp)
        sources = []
        for name, data in documents.items():
            if not name or Path(name).name != name or name.startswith("."):
                raise ValueError(f"bad document name {name!r}")
            path = work / f"{name}.docx"
            path.write_bytes(data)
            sources.append(str(path))
        out = work / "out"
        out.mkdir()
        command = [program, f"-env:UserInstallation={(work / 'profile').as_uri()}", "--headless", "--invisible",
                   "--nologo", "--norestore", "--nodefault", "--nolockcheck", "--convert-to", "pdf:writer_pdf_Export",
                   "--outdir", str(out), *sources]
        env = dict(os.environ, HOME=str(work))  # nothing written to the user's home (a service account may have none)
        try:
            proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=work, env=env,
                                    start_new_session=True)  # its own process group: a timeout stops all of it
        except OSError as exc:
            raise PdfError(f"Не удалось запустить программу преобразования в PDF ({exc.strerror}): "
                           f"{INSTALL_HINT}.") from None
        try:
            proc.communicate(timeout=limit)
        except subprocess.TimeoutExpired:
            _kill(proc)
            raise PdfError(f"Преобразование в PDF не уложилось в {limit:g} с и остановлено; повторите позже.") from None
        finally:
            if proc.poll() is None:  # pragma: no cover - an exception while waiting
                _kill(proc)
        result = {}
        for name in documents:
            pdf = out / f"{name}.pdf"
            if not pdf.is_file() or pdf.stat().st_size == 0:
                raise PdfError("LibreOffice не смог преобразовать документ в PDF (код завершения "
                               f"{proc.returncode}). Проверьте, что установлен модуль Writer "
                               "(пакет libreoffice-writer-nogui), и повторите.")
            result[name] = pdf.read_bytes()
        return result


def _kill(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:  # pragma: no cover - it has just ended
        pass
    proc.wait()
