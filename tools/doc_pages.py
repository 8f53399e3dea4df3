"""Page images of the documents for the README: `make doc-pages` (or `.venv/bin/python tools/doc_pages.py`).

Makes the four documents from the fixtures with the command line, as a user makes them (Word, then PDF by
LibreOffice in one run), and renders a chosen page of each to docs/<name>.png with pdftoppm (poppler-utils). Change
a page with --page NAME=N, e.g. `tools/doc_pages.py --page gost=2`."""
from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from compliance.pdf import PdfError, docx_to_pdf_many  # noqa: E402

F = ROOT / "fixtures"
# name: (command line of `compliance`, the page shown, what it is)
DOCUMENTS = {
    "gap-report": (["check", str(F / "ip794-created-gaps.yaml")], 1, "отчёт о соответствии"),
    "matrix": (["check", str(F / "ip794-created-gaps.yaml"), "-r", "all"], 1, "матрица режимов"),
    "gost-conclusion": (["check", str(F / "htp1381-operating.yaml"), "-r", "gost56425",
                         "--judgements", str(F / "gost-judgements-htp1381.yaml")], 1, "заключение по ГОСТ Р 56425"),
    "catalog-review": (["catalog", "-r", "ip794"], 2, "документ для экспертной сверки каталога"),
}


def main() -> int:
    parser = argparse.ArgumentParser(description="Картинки страниц документов для README (docs/*.png).")
    parser.add_argument("--out", type=Path, default=ROOT / "docs", help="каталог для картинок (по умолчанию docs/)")
    parser.add_argument("--page", action="append", default=[], metavar="ИМЯ=N",
                        help=f"какую страницу показать: {', '.join(DOCUMENTS)}")
    parser.add_argument("--dpi", type=int, default=80, help="разрешение картинок (по умолчанию 80 точек на дюйм)")
    args = parser.parse_args()
    pages = {name: page for name, (_, page, _) in DOCUMENTS.items()}
    for item in args.page:
        name, _, n = item.partition("=")
        if name not in pages or not n.isdigit():
            parser.error(f"--page {item}: ожидается ИМЯ=N, где ИМЯ — одно из: {', '.join(DOCUMENTS)}")
        pages[name] = int(n)
    if shutil.which("pdftoppm") is None:
        print("Нет программы pdftoppm: установите poppler-utils (make pdf-converter).", file=sys.stderr)
        return 2
    compliance = shutil.which("compliance", path=str(Path(sys.executable).parent)) or "compliance"
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        words = {}
        for name, (command, _, _) in DOCUMENTS.items():
            docx = Path(tmp) / f"{name}.docx"
            done = subprocess.run([compliance, *command, "-f", "docx", "-o", str(docx)], capture_output=True, text=True)
            if not docx.is_file():
                print(f"{name}: документ не создан ({done.stderr.strip()})", file=sys.stderr)
                return 2
            words[name] = docx.read_bytes()
        try:
            pdfs = docx_to_pdf_many(words, timeout=600)
        except PdfError as exc:
            print(exc, file=sys.stderr)
            return 2
        for name, pdf in pdfs.items():
            source = Path(tmp) / f"{name}.pdf"
            source.write_bytes(pdf)
            target = args.out / name
            subprocess.run(["pdftoppm", "-png", "-r", str(args.dpi), "-f", str(pages[name]), "-l", str(pages[name]),
                            "-singlefile", str(source), str(target)], check=True)
            print(f"{target}.png — {DOCUMENTS[name][2]}, страница {pages[name]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
