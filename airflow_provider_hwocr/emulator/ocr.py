"""Reading text off an image: Tesseract when it is installed, else a deterministic synthetic reader.

Both readers give the same thing, a list of :class:`Line` (words with boxes
and confidences, in reading order), and the result builders turn lines into
each API's answer. The synthetic reader invents plausible text from a hash
of the image, so the same image always gives the same answer and the shapes
match the real ones; it is announced wherever it is used.

Tesseract is run as a subprocess (``tesseract stdin stdout tsv``), one thread
each: a single-threaded run is more than twice as fast on a small machine as
the default OpenMP one, and concurrent requests are spread over the cores by
a semaphore instead.
"""

from __future__ import annotations

import csv
import hashlib
import io
import os
import shutil
import subprocess
import threading
import warnings
from collections import OrderedDict
from dataclasses import dataclass
from functools import cache
from typing import Any

try:  # Pillow is optional: it normalises images before Tesseract reads them.
    from PIL import Image as _PILImage
except ImportError:  # pragma: no cover - exercised only without Pillow
    _PILImage = None  # type: ignore[assignment]

#: Formats the ``tesseract`` binary (through Leptonica) reads by itself.
_TESSERACT_NATIVE = frozenset({"PNG", "JPEG", "TIFF", "BMP", "GIF", "WEBP"})
#: Images above this many pixels are shrunk before OCR (coordinates are scaled back).
_MAX_OCR_PIXELS = 12_000_000
#: A Tesseract run longer than this falls back to the synthetic reader.
_TESSERACT_TIMEOUT = 60.0
#: Recognised images kept, so that retries and repeated images cost nothing.
_CACHE_SIZE = 256

#: Request ``language`` -> Tesseract language pack, used when that pack is installed.
_LANGUAGE_PACKS = {
    "zh": "chi_sim", "ja": "jpn", "ko": "kor", "ru": "rus", "de": "deu", "fr": "fra",
    "it": "ita", "es": "spa", "pt": "por", "ar": "ara", "th": "tha", "vi": "vie",
    "tr": "tur", "pl": "pol", "uk": "ukr", "hi": "hin", "id": "ind", "ms": "msa",
}  # fmt: skip

Box = tuple[int, int, int, int]  # left, top, right, bottom


@dataclass(frozen=True)
class Word:
    text: str
    #: 0..1
    confidence: float
    box: Box


@dataclass(frozen=True)
class Line:
    words: tuple[Word, ...]

    @property
    def text(self) -> str:
        return " ".join(w.text for w in self.words)

    @property
    def confidence(self) -> float:
        return round(sum(w.confidence for w in self.words) / len(self.words), 4)

    @property
    def box(self) -> Box:
        return union(w.box for w in self.words)

    @property
    def height(self) -> int:
        return max(1, self.box[3] - self.box[1])


def union(boxes) -> Box:
    boxes = list(boxes)
    return (
        min(b[0] for b in boxes),
        min(b[1] for b in boxes),
        max(b[2] for b in boxes),
        max(b[3] for b in boxes),
    )


def quad(box: Box) -> list[list[int]]:
    """The service's 4-point location: top-left, top-right, bottom-right, bottom-left."""
    left, top, right, bottom = box
    return [[left, top], [right, top], [right, bottom], [left, bottom]]


# --- Tesseract ------------------------------------------------------------------------


def tesseract_problem() -> str | None:
    """None when Tesseract can be used, else why it cannot."""
    if shutil.which("tesseract") is None:
        return "the tesseract binary is not on PATH"
    if not installed_languages():
        return "tesseract is installed but lists no language data"
    return None


@cache
def installed_languages() -> frozenset[str]:
    try:
        out = subprocess.run(
            ["tesseract", "--list-langs"], capture_output=True, text=True, timeout=30, check=False
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return frozenset()
    return frozenset(line.strip() for line in out.splitlines()[1:] if line.strip())


def tesseract_language(language: str | None) -> str:
    """Tesseract's ``-l`` value for the request's ``language`` (English is always included)."""
    installed = installed_languages()
    pack = _LANGUAGE_PACKS.get(language or "")
    base = "eng" if "eng" in installed else next(iter(sorted(installed - {"osd"})), "eng")
    if pack and pack in installed and pack != base:
        return f"{pack}+{base}"
    return base


def _prepare(data: bytes, fmt: str) -> tuple[bytes, float]:
    """Image bytes Tesseract can read, and the factor its coordinates must be divided by."""
    if _PILImage is None:
        if fmt not in _TESSERACT_NATIVE:
            raise ValueError(f"{fmt} needs Pillow to be converted for Tesseract")
        return data, 1.0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # DecompressionBombWarning: sizes were checked already
        image: Any = _PILImage.open(io.BytesIO(data))
        image.seek(0)
        image.load()
    scale = 1.0
    pixels = image.width * image.height
    if pixels > _MAX_OCR_PIXELS:
        scale = (_MAX_OCR_PIXELS / pixels) ** 0.5
        image = image.resize((max(1, int(image.width * scale)), max(1, int(image.height * scale))))
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        flat = _PILImage.new("RGB", rgba.size, "white")
        flat.paste(rgba, mask=rgba.getchannel("A"))
        image = flat
    elif image.mode not in ("L", "RGB"):
        image = image.convert("RGB")
    buf = io.BytesIO()
    image.save(buf, format="PNG", compress_level=1)
    return buf.getvalue(), scale


def _parse_tsv(text: str, scale: float) -> list[Line]:
    lines: dict[tuple[int, int, int], list[Word]] = {}
    for row in csv.DictReader(io.StringIO(text), delimiter="\t", quoting=csv.QUOTE_NONE):
        word = (row.get("text") or "").strip()
        if row.get("level") != "5" or not word:
            continue
        try:
            left, top = int(row["left"]), int(row["top"])
            right, bottom = left + int(row["width"]), top + int(row["height"])
            conf = float(row["conf"])
        except (KeyError, TypeError, ValueError):
            continue
        box = (round(left / scale), round(top / scale), round(right / scale), round(bottom / scale))
        key = (int(row["block_num"]), int(row["par_num"]), int(row["line_num"]))
        lines.setdefault(key, []).append(Word(word, round(max(0.0, min(conf, 100.0)) / 100, 4), box))
    return [Line(tuple(words)) for words in lines.values()]


def run_tesseract(data: bytes, fmt: str, language: str | None) -> list[Line]:
    """Recognise ``data`` with the ``tesseract`` binary; raises on any failure."""
    prepared, scale = _prepare(data, fmt)
    done = subprocess.run(
        ["tesseract", "stdin", "stdout", "-l", tesseract_language(language), "tsv"],
        input=prepared,
        capture_output=True,
        timeout=_TESSERACT_TIMEOUT,
        env={**os.environ, "OMP_THREAD_LIMIT": "1"},
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"tesseract exited {done.returncode}")
    return _parse_tsv(done.stdout.decode("utf-8", "replace"), scale)


# --- the synthetic reader ---------------------------------------------------------------

_VOCABULARY = (
    "invoice", "total", "amount", "date", "number", "receipt", "name", "address", "tax",
    "item", "price", "quantity", "paid", "balance", "account", "order", "customer", "due",
    "subtotal", "reference", "phone", "email", "city", "street", "2024", "42.00", "17.50",
    "100", "No.", "ID", "code", "page",
)  # fmt: skip


def synthetic_lines(data: bytes, size: tuple[int, int] | None) -> list[Line]:
    """Stable made-up lines of text laid out inside an image of ``size`` (width, height).

    Everything (line count, words, confidences) comes from the SHA-256 of the
    bytes, so a given image always reads the same.
    """
    digest = hashlib.sha256(data).digest()
    width, height = size or (1000, 1000)
    count = 1 + digest[0] % 4
    pitch = max(1, height // (count + 1))
    line_height = max(1, min(40, (pitch * 2) // 3))
    count = max(1, min(count, height // max(line_height, 1)))
    char_width = max(1, line_height // 2)
    lines = []
    cursor = 1
    for index in range(count):
        n_words = 2 + digest[cursor] % 3
        top = min(height - line_height, max(0, pitch * (index + 1) - line_height // 2))
        left = max(0, width // 20)
        words = []
        for w in range(n_words):
            text = _VOCABULARY[digest[(cursor + 1 + w) % 32] % len(_VOCABULARY)]
            right = min(width, left + char_width * len(text))
            if right - left < 1:
                break
            conf = round(0.9 + (digest[(cursor + 5 + w) % 32] / 255) * 0.0999, 4)
            words.append(Word(text, conf, (left, top, right, min(height, top + line_height))))
            left = right + char_width
        cursor = (cursor + n_words + 1) % 32
        if words:
            lines.append(Line(tuple(words)))
    return lines


# --- the reader the server uses ---------------------------------------------------------


class TextReader:
    """Picks the engine once (``config.ocr_engine``), caches results, limits parallel Tesseract runs."""

    def __init__(self, setting: str = "auto") -> None:
        if setting == "synthetic":
            problem: str | None = "the synthetic reader was chosen (ocr_engine=synthetic)"
        else:
            problem = tesseract_problem()
            if problem is not None and setting == "tesseract":
                raise RuntimeError(f"ocr_engine=tesseract, but {problem}")
        #: ``tesseract`` or ``synthetic``.
        self.engine = "synthetic" if problem else "tesseract"
        #: Why the synthetic reader is used (None with Tesseract).
        self.reason = problem
        self._slots = threading.BoundedSemaphore(max(1, os.cpu_count() or 1))
        self._lock = threading.Lock()
        self._cache: OrderedDict[tuple[str, str | None], list[Line]] = OrderedDict()

    def read(
        self, data: bytes, fmt: str, size: tuple[int, int] | None, language: str | None = None
    ) -> tuple[list[Line], str]:
        """(lines, engine that produced them). PDF and unreadable images get synthetic lines."""
        if self.engine == "tesseract" and fmt != "PDF":
            key = (hashlib.sha256(data).hexdigest(), language)
            with self._lock:
                cached = self._cache.get(key)
                if cached is not None:
                    self._cache.move_to_end(key)
                    return cached, "tesseract"
            try:
                with self._slots:
                    lines = run_tesseract(data, fmt, language)
            except Exception:  # noqa: BLE001 - any failure: answer with the synthetic reader
                return synthetic_lines(data, size), "synthetic"
            with self._lock:
                self._cache[key] = lines
                while len(self._cache) > _CACHE_SIZE:
                    self._cache.popitem(last=False)
            return lines, "tesseract"
        return synthetic_lines(data, size), "synthetic"


def describe_engine(reader: TextReader, results: str) -> str:
    """One line for start-up output: how answers are made, and how to get real OCR."""
    if results == "documented":
        return "answers: each API's documented example, verbatim (results=documented)"
    if reader.engine == "tesseract":
        return f"OCR: real, with Tesseract (languages: {', '.join(sorted(installed_languages()))})"
    return (
        f"OCR: synthetic, deterministic made-up text ({reader.reason}). "
        "For real OCR install Tesseract, e.g. `apt-get install -y tesseract-ocr`."
    )
