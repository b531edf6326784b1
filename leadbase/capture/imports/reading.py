"""Reading imported files row by row: CSV in any common dialect and encoding, and XLSX.

No CSV file is ever held in memory whole: the encoding check streams the file in blocks, the
delimiter is detected by clevercsv on a sample, and rows are read one at a time by the stdlib
csv module with that delimiter. A spreadsheet (XLSX, also XLS and ODS) is read by
python-calamine, which loads the chosen sheet's cells (Excel caps a sheet at 1,048,576 rows);
its rows are turned into text one at a time.

Row numbers are the ones a spreadsheet shows: the first record of the file is row 1, blank rows
count, and a quoted cell with line breaks is one row.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import datetime as dt
import io
import re
import unicodedata
from collections.abc import Generator, Iterator
from dataclasses import dataclass, field
from typing import IO, Any

import charset_normalizer
import python_calamine
from clevercsv import Detector

from leadbase.core.errors import ValidationFailed

SAMPLE_BYTES = 64 * 1024  # read for the format, BOM and encoding guess
DIALECT_SAMPLE_CHARS = 16 * 1024  # clevercsv's time grows with the sample: ~50 ms here
DELIMITERS = (",", ";", "\t", "|")
# Encodings a person can choose when the detected one reads wrong (besides the detected one).
ENCODINGS = ("utf-8", "utf-16", "cp1252", "cp1250", "cp1251", "cp1253", "iso8859-15", "mac-roman")
MAX_COLUMNS = 500
PREVIEW_ROWS = 10
PREVIEW_CELL_CHARS = 200
HEADER_CHARS = 200
SPREADSHEET_SUFFIXES = (".xlsx", ".xlsm", ".xlsb", ".xls", ".ods")

_BOMS = (  # UTF-32 first: its little-endian BOM starts with UTF-16's
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
_ZIP = b"PK\x03\x04"  # XLSX and ODS are zip archives
_OLE = bytes.fromhex("d0cf11e0a1b11ae1")  # legacy XLS, and password-protected XLSX
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_LOOKS_LIKE_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_LOOKS_LIKE_PHONE = re.compile(r"^\+?[\d\s().-]{7,}$")


class ImportFileError(ValidationFailed):
    """The file as a whole cannot be read; the message says why and what to do about it."""

    def __init__(self, message: str) -> None:
        super().__init__(message, fields={"file": message})


@dataclass(frozen=True)
class FileFormat:
    """How to read a file: `kind` csv (with its encoding and delimiter) or a spreadsheet kind
    (xlsx, xls, ods; with the sheet to read)."""

    kind: str
    encoding: str = ""
    delimiter: str = ""
    sheet: str = ""

    @property
    def is_csv(self) -> bool:
        return self.kind == "csv"


@dataclass(frozen=True)
class Analysis:
    """What an uploaded file holds: its format, its sheets (spreadsheets), the column names
    and where they are, and the first rows."""

    format: FileFormat
    headers: tuple[str, ...]
    header_row: int
    preview: list[list[str]]
    sheets: tuple[str, ...] = ()


def analyse(
    file: IO[bytes], *, name: str, sheet: str = "", read_as: FileFormat | None = None
) -> Analysis:
    """Detects the format of `file` (named `name` by the person who sent it), or takes
    `read_as` (a CSV encoding and delimiter chosen by a person), and reads its header and
    first rows. Raises ImportFileError when it cannot be imported."""
    fmt, sheets = (read_as, ()) if read_as else detect_format(file, name=name, sheet=sheet)
    table = open_table(file, fmt, name=name)
    preview = []
    for _, cells in table.rows():
        cells = [cell[:PREVIEW_CELL_CHARS] for cell in cells[: len(table.headers)]]
        preview.append(cells + [""] * (len(table.headers) - len(cells)))
        if len(preview) == PREVIEW_ROWS:
            break
    table.close()
    return Analysis(fmt, table.headers, table.header_row, preview, sheets)


def detect_format(
    file: IO[bytes], *, name: str, sheet: str = ""
) -> tuple[FileFormat, tuple[str, ...]]:
    """The file's format, and the names of its sheets when it is a spreadsheet."""
    file.seek(0)
    head = file.read(SAMPLE_BYTES)
    if not head:
        raise ImportFileError(f"“{name}” is empty (0 bytes). Choose the file again.")
    if head.startswith((_ZIP, _OLE)):
        kind = "xls" if head.startswith(_OLE) else "ods" if name.lower().endswith(".ods") else ""
        with _open_workbook(file, name) as workbook:
            sheets = tuple(workbook.sheet_names)
            chosen = _choose_sheet(workbook, sheet, name)
        return FileFormat(kind=kind or "xlsx", sheet=chosen), sheets
    if name.lower().endswith(SPREADSHEET_SUFFIXES):
        raise ImportFileError(
            f"“{name}” is named like an Excel workbook but is not one (an .xlsx file is a zip "
            "archive; this file is not). Open it in your spreadsheet program and save it as "
            ".xlsx or as CSV, or, if it is a CSV file, rename it to .csv."
        )
    if sheet:
        raise ImportFileError(f"A CSV file has no sheets: “{name}” is one. Leave the sheet out.")
    encoding = detect_encoding(file, head, name=name)
    text = head.decode(encoding, errors="replace").lstrip("\ufeff")
    return FileFormat(kind="csv", encoding=encoding, delimiter=detect_delimiter(text)), ()


def detect_encoding(file: IO[bytes], head: bytes, *, name: str) -> str:
    """A BOM decides; else UTF-8 when the whole file is valid UTF-8 (checked in blocks);
    else charset-normalizer's guess on the start of the file and the first non-UTF-8 bytes."""
    for bom, encoding in _BOMS:
        if head.startswith(bom):
            return encoding
    if (utf16 := _utf16_without_bom(head)) is not None:
        return utf16
    if b"\x00" in head:
        raise _not_text(name)
    bad_at = _first_invalid_utf8(file)
    if bad_at is None:
        return "utf-8"
    file.seek(max(0, bad_at - 4096))
    return _guess_single_byte(head + b"\n" + file.read(8192), name)


def _utf16_without_bom(head: bytes) -> str | None:
    """UTF-16 text without a BOM has a zero byte in every other position (for Latin text)."""
    sample = head[: len(head) // 2 * 2][:4096]
    if len(sample) < 8:
        return None
    even, odd = sample[0::2].count(0), sample[1::2].count(0)
    half = len(sample) // 2
    if odd > 0.9 * half and even < 0.1 * half:
        return "utf-16-le"
    if even > 0.9 * half and odd < 0.1 * half:
        return "utf-16-be"
    return None


def _first_invalid_utf8(file: IO[bytes]) -> int | None:
    """The offset of the first byte that is not UTF-8, or None when the whole file is."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    file.seek(0)
    offset = 0
    try:
        while block := file.read(1 << 20):
            decoder.decode(block)
            offset += len(block)
        decoder.decode(b"", final=True)
    except UnicodeDecodeError as exc:
        return max(0, offset + exc.start)
    return None


def _guess_single_byte(sample: bytes, name: str) -> str:
    """The single-byte encoding of a text that is not UTF-8. charset-normalizer tells text
    from binary and knows non-Latin scripts (Cyrillic, Greek, Japanese, ...), but among the
    Latin ones it often picks a Baltic or Central European code page for Western text. So for
    Latin script: Windows-1252 (Latin-1's superset), or Windows-1250 when more of the
    non-ASCII characters read as letters in it (Polish, Czech, Hungarian with their own
    letters)."""
    best = charset_normalizer.from_bytes(sample).best()
    if best is None:
        raise _not_text(name)
    western = _decoded(sample, "cp1252")
    if western is None or not _latin_script(western):
        return codecs.lookup(best.encoding).name
    central = _decoded(sample, "cp1250")
    if central is not None and _letter_share(central) > _letter_share(western):
        return "cp1250"
    return "cp1252"


def _decoded(sample: bytes, encoding: str) -> str | None:
    try:
        return sample.decode(encoding)
    except UnicodeDecodeError:
        return None


def _latin_script(text: str) -> bool:
    """Words with non-ASCII letters mostly have ASCII letters too (Müller, Größe): a Latin
    script. Read in the wrong code page, Cyrillic or Greek gives words of accented letters
    only."""
    words = [w for w in re.findall(r"[^\W\d_]+", text) if not w.isascii()]
    mixed = sum(1 for w in words if any(c.isascii() for c in w))
    return not words or mixed * 2 >= len(words)


def _letter_share(text: str) -> float:
    non_ascii = [c for c in text if not c.isascii()]
    return sum(1 for c in non_ascii if c.isalpha()) / len(non_ascii) if non_ascii else 1.0


def _not_text(name: str) -> ImportFileError:
    return ImportFileError(
        f"“{name}” is neither a text (CSV) file nor an Excel workbook: it holds binary data. "
        "Export your data as CSV (UTF-8) or .xlsx and upload that."
    )


def detect_delimiter(text: str) -> str:
    """The delimiter clevercsv finds on a sample of whole lines (of , ; tab |); for a file
    of one column, the candidate in its first line, else a comma."""
    sample = text[:DIALECT_SAMPLE_CHARS]
    if len(text) > len(sample) and (cut := sample.rfind("\n")) > 0:
        sample = sample[: cut + 1]
    dialect = Detector().detect(sample, delimiters=list(DELIMITERS))
    if dialect is not None and dialect.delimiter in DELIMITERS:
        return dialect.delimiter
    first = sample.split("\n", 1)[0]
    count, delimiter = max((first.count(d), d) for d in DELIMITERS)
    return delimiter if count else ","


def _open_workbook(file: IO[bytes], name: str) -> python_calamine.CalamineWorkbook:
    file.seek(0)
    try:
        return python_calamine.CalamineWorkbook.from_filelike(file)
    except python_calamine.PasswordError:
        raise ImportFileError(
            f"“{name}” is protected by a password. Remove the password in your spreadsheet "
            "program, save, and upload it again."
        ) from None
    except Exception as exc:  # calamine raises several error types for damaged files
        raise ImportFileError(
            f"“{name}” looks like a spreadsheet but cannot be read as one ({exc}). Open it in "
            "your spreadsheet program and save it again as .xlsx, or export it as CSV."
        ) from None


def _choose_sheet(workbook: python_calamine.CalamineWorkbook, sheet: str, name: str) -> str:
    """The sheet asked for; by default the first visible worksheet."""
    names = list(workbook.sheet_names)
    if sheet:
        if sheet not in names:
            listed = ", ".join(f"“{n}”" for n in names)
            raise ImportFileError(f"“{name}” has no sheet named “{sheet}”; its sheets: {listed}.")
        return sheet
    for meta in workbook.sheets_metadata:
        if (
            meta.typ == python_calamine.SheetTypeEnum.WorkSheet
            and meta.visible == python_calamine.SheetVisibleEnum.Visible
        ):
            return meta.name
    if not names:
        raise ImportFileError(f"“{name}” has no sheets.")
    return names[0]


# --- Rows ----------------------------------------------------------------------------------


@dataclass
class Table:
    """An open file: its column names, then its data rows one at a time."""

    headers: tuple[str, ...]
    header_row: int
    _records: Iterator[tuple[int, list[str]]] = field(repr=False)
    _source: Generator[list[str]] = field(repr=False)

    def rows(self) -> Iterator[tuple[int, list[str]]]:
        """(row number, cells) of every row after the header that is not blank. A row may
        have more or fewer cells than there are columns (the caller decides what to do)."""
        for number, cells in self._records:
            if any(cells) and not "".join(cells).isspace():
                yield number, cells

    def close(self) -> None:
        """Stops reading (the caller's file stays open)."""
        self._source.close()


def open_table(file: IO[bytes], fmt: FileFormat, *, name: str) -> Table:
    """The file opened for reading rows: the first non-blank row is the header."""
    source = _csv_records(file, fmt) if fmt.is_csv else _sheet_records(file, fmt)
    records = enumerate(source, 1)
    try:
        for number, cells in records:
            if any(cell.strip() for cell in cells):
                return Table(_clean_headers(cells, name), number, records, source)
    except BaseException:
        source.close()
        raise
    raise ImportFileError(
        f"“{name}” has no header row: it holds no data at all"
        + (f" on the sheet “{fmt.sheet}”." if fmt.sheet else ".")
    )


def _csv_records(file: IO[bytes], fmt: FileFormat) -> Generator[list[str]]:
    file.seek(0)
    # Bytes that are not of the encoding (rare: the whole file was checked for UTF-8) become
    # U+FFFD rather than stopping the import.
    text = io.TextIOWrapper(_raw(file), encoding=fmt.encoding, errors="replace", newline="")
    reader = csv.reader(text, delimiter=fmt.delimiter or ",", quotechar='"', strict=False)
    number = 0
    try:
        for number, cells in enumerate(reader, 1):
            if number == 1 and cells and cells[0].startswith("\ufeff"):
                cells[0] = cells[0][1:]
            yield cells
    except csv.Error as exc:
        raise ImportFileError(
            f"Row {number + 1} cannot be read ({exc}). A cell longer than "
            f'{csv.field_size_limit():,} characters usually means a quote (") that is never '
            "closed: check that row and the ones before it."
        ) from None
    finally:
        with contextlib.suppress(ValueError):  # already closed by its owner
            text.detach()  # leaves the caller's file open


def _raw(file: IO[bytes]) -> Any:
    """The underlying file object of a Django File (TextIOWrapper wants a real stream)."""
    while hasattr(file, "file") and getattr(file, "file", None) is not None:
        file = file.file
    return file


def _sheet_records(file: IO[bytes], fmt: FileFormat) -> Generator[list[str]]:
    with _open_workbook(file, "the file") as workbook:
        sheet = workbook.get_sheet_by_name(fmt.sheet)
        for row in sheet.iter_rows():  # from the sheet's first row: numbers stay right
            yield [_cell_text(value) for value in row]


def _cell_text(value: Any) -> str:
    """A spreadsheet value as the text a person sees (12, not 12.0; dates in ISO 8601)."""
    if isinstance(value, str):
        return value
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() and abs(value) < 1e16 else repr(value)
    if isinstance(value, (dt.datetime, dt.date, dt.time)):
        return value.isoformat()
    return str(value)


def _clean_headers(cells: list[str], name: str) -> tuple[str, ...]:
    """Column names: trimmed, without control characters; blank ones named by position,
    repeated ones numbered. Trailing blank cells are no columns."""
    names = [
        " ".join(_CONTROL.sub(" ", unicodedata.normalize("NFC", c)).split())[:HEADER_CHARS]
        for c in cells
    ]
    while names and not names[-1]:
        names.pop()
    if len(names) > MAX_COLUMNS:
        raise ImportFileError(
            f"“{name}” has {len(names):,} columns; the limit is {MAX_COLUMNS}. Remove the "
            "columns you do not need and upload it again."
        )
    for cell in names:
        if _LOOKS_LIKE_EMAIL.match(cell) or _LOOKS_LIKE_PHONE.match(cell):
            raise ImportFileError(
                f"The first row of “{name}” holds data (“{cell}”), not column names. Add a "
                "header row that names the columns (e.g. email, first_name, company) and "
                "upload it again."
            )
    unique: list[str] = []
    for position, cell in enumerate(names, 1):
        base = header = cell or f"Column {position}"
        copy = 1
        while header in unique:
            copy += 1
            header = f"{base} ({copy})"
        unique.append(header)
    return tuple(unique)


def count_rows(file: IO[bytes], fmt: FileFormat, *, name: str) -> int:
    """How many data rows (not blank, after the header) the file has."""
    table = open_table(file, fmt, name=name)
    try:
        return sum(1 for _ in table.rows())
    finally:
        table.close()
