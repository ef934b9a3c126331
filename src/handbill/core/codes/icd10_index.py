"""The compact ICD-10-CM index behind :mod:`handbill.core.codes.icd10`.

The code set comes from the ``simple-icd-10-cm`` package (CDC data). Importing that package
builds the whole classification tree in memory, which costs seconds and about 200 MB, so a
running Handbill process never imports it. Instead the tree is read once into a small SQLite
file; a lookup then opens the file read-only and reads one row by primary key.

* Built in a separate Python process (``python -m handbill.core.codes.icd10_index build``), so
  the memory of the package never lands in a web worker.
* Written to a temporary file and renamed into place, so two processes racing to build it can
  only waste work, never leave a half-written index.
* Stamped with the package version, the data files and our schema version; a newer package
  or schema rebuilds it at the next first use.
* The generated 7th-character codes (S13.4XXA …, about half the code set) are not stored:
  each code that takes a 7th character stores its definition and which of its characters
  exist, and the extended code is resolved at lookup time.
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import os
import re
import sqlite3
import subprocess
import sys
import tempfile
import threading
import warnings
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, NamedTuple

# Bump when the table layout or the meaning of a column changes: the stamp then differs and
# every existing index is rebuilt on its next first use.
SCHEMA_VERSION = 1

PACKAGE = "simple_icd_10_cm"
INDEX_PREFIX = "icd10cm-"
INDEX_SUFFIX = ".sqlite3"

_MONTHS = {
    name: number
    for number, name in enumerate(
        ("january", "february", "march", "april", "may", "june", "july", "august",
         "september", "october", "november", "december"),
        start=1,
    )
}


class Icd10DataUnavailable(RuntimeError):
    """No ICD-10-CM index can be opened or built (a setup problem, not a coding answer)."""


@dataclass(frozen=True, slots=True)
class Release:
    """One ICD-10-CM release and the dates of service it governs, ``[effective_from, until)``."""

    name: str  # "2026-04-01"
    fiscal_year: int
    effective_from: date
    effective_until: date  # exclusive: the next 1 October

    def covers(self, day: date) -> bool:
        return self.effective_from <= day < self.effective_until

    def describe(self) -> str:
        last = date.fromordinal(self.effective_until.toordinal() - 1)
        return (
            f"ICD-10-CM release of {self.effective_from.isoformat()} (FY{self.fiscal_year}), "
            f"for dates of service {self.effective_from.isoformat()} to {last.isoformat()}"
        )


def release_from_file_name(tabular_file: str) -> Release:
    """The release a CDC tabular file holds, from its name.

    ``icd10c-tabular-April-1-2026.xml`` is the 1 April 2026 update, in force until the next
    fiscal year starts on 1 October. A name without a month (``…-2026.xml``) is the October
    release of that fiscal year.
    """
    stem = tabular_file.lower()
    dated = re.search(r"([a-z]+)-(\d{1,2})-(\d{4})", stem)
    if dated and dated.group(1) in _MONTHS:
        start = date(int(dated.group(3)), _MONTHS[dated.group(1)], int(dated.group(2)))
        fiscal_year = start.year + 1 if start.month >= 10 else start.year
    else:
        year = re.search(r"(\d{4})", stem)
        if year is None:
            raise Icd10DataUnavailable(
                f"cannot tell which ICD-10-CM release {tabular_file!r} holds: name the file "
                "like the CDC does, e.g. icd10cm-tabular-April-1-2026.xml"
            )
        fiscal_year = int(year.group(1))
        start = date(fiscal_year - 1, 10, 1)
    return Release(
        name=start.isoformat(),
        fiscal_year=fiscal_year,
        effective_from=start,
        effective_until=date(fiscal_year, 10, 1),
    )


# --------------------------------------------------------------------------------------------
# Where the index lives


def default_cache_dir() -> Path:
    """``$HANDBILL_VAR_DIR``, else ``$HANDBILL_HOME/var``, else ``handbill/var`` beside the code
    when writable, else the user's cache directory. (The same var directory as Django's
    settings, without reading them: the core stays free of Django.)"""
    var_dir = os.environ.get("HANDBILL_VAR_DIR", "").strip()
    if var_dir:
        return Path(var_dir)
    home = os.environ.get("HANDBILL_HOME", "").strip()
    if home:
        return Path(home) / "var"
    beside_code = Path(__file__).resolve().parents[2] / "var"  # src/handbill/var, git-ignored
    if _writable(beside_code):
        return beside_code
    xdg = os.environ.get("XDG_CACHE_HOME", "").strip()
    return (Path(xdg) if xdg else Path.home() / ".cache") / "handbill"


def _writable(directory: Path) -> bool:
    probe = directory
    while not probe.exists():
        if probe.parent == probe:
            return False
        probe = probe.parent
    return probe.is_dir() and os.access(probe, os.W_OK | os.X_OK)


# --------------------------------------------------------------------------------------------
# The installed package, seen without importing it


@dataclass(frozen=True, slots=True)
class SourceInfo:
    package_version: str
    tabular_file: str
    code_list_file: str
    tabular_size: int
    release: Release

    @property
    def stamp(self) -> str:
        return (
            f"schema={SCHEMA_VERSION};package={self.package_version};"
            f"tabular={self.tabular_file}:{self.tabular_size};codes={self.code_list_file}"
        )


def installed_source() -> SourceInfo | None:
    """What the installed ``simple-icd-10-cm`` would give, read from its files (milliseconds),
    or None when it is not installed."""
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        return None
    package_dir = Path(next(iter(spec.submodule_search_locations)))
    data_dir = package_dir / "data"
    try:
        names = sorted(os.listdir(data_dir))
    except OSError:
        return None
    tabular = [n for n in names if n.endswith(".xml") and "tabular" in n.lower()]
    code_lists = [n for n in names if n.endswith(".txt") and "code" in n.lower()]
    if len(tabular) != 1 or len(code_lists) != 1:
        return None
    return SourceInfo(
        package_version=_package_version(package_dir),
        tabular_file=tabular[0],
        code_list_file=code_lists[0],
        tabular_size=(data_dir / tabular[0]).stat().st_size,
        release=release_from_file_name(tabular[0]),
    )


def _package_version(package_dir: Path) -> str:
    # The dist-info directory name carries the version; importlib.metadata would scan every
    # installed distribution, which costs more than the whole first lookup should.
    for entry in package_dir.parent.glob(f"{PACKAGE}-*.dist-info"):
        return entry.name[len(PACKAGE) + 1 : -len(".dist-info")]
    from importlib import metadata

    try:
        return metadata.version("simple-icd-10-cm")
    except metadata.PackageNotFoundError:
        return "unknown"


# --------------------------------------------------------------------------------------------
# Reading


class CodeRow(NamedTuple):
    key: str  # upper case without the dot: "M5450", "S134"; blocks "S10-S19"; chapters "19"
    code: str  # as printed: "M54.50"
    kind: str  # chapter | block | category | subcategory
    parent: str  # key of the parent, "" for a chapter
    description: str
    billable: bool
    seventh: str  # for a code that needs a 7th character: the characters that exist, "ADS"
    seventh_def: int | None  # id of its 7th-character definition (own or inherited)
    billable_count: int  # billable codes at or below this one, 7th-character codes included
    laterality_unspecified: bool


_SELECT_BY_KEY = (
    "SELECT key, code, kind, parent, description, billable, seventh, seventh_def,"
    " billable_count, laterality_unspecified FROM code WHERE key = ?"
)
_SELECT_CHILDREN = (
    "SELECT key, code, kind, parent, description, billable, seventh, seventh_def,"
    " billable_count, laterality_unspecified FROM code WHERE parent = ? ORDER BY position"
)
_SELECT_SEARCH = (
    "SELECT c.key, c.code, c.kind, c.parent, c.description, c.billable, c.seventh,"
    " c.seventh_def, c.billable_count, c.laterality_unspecified"
    " FROM code c LEFT JOIN seventh_def d ON d.id = c.seventh_def"
)


def _row(raw: Sequence[Any]) -> CodeRow:
    return CodeRow(
        raw[0], raw[1], raw[2], raw[3], raw[4], bool(raw[5]), raw[6], raw[7], raw[8],
        bool(raw[9]),
    )


class Icd10Index:
    """A read-only, thread-safe view of one built index file."""

    def __init__(self, path: Path) -> None:
        self.path = path
        # immutable=1: the file is never changed in place (a rebuild renames a new file over
        # it), so SQLite may skip locking; a process holding the old file keeps reading it.
        uri = f"{path.resolve().as_uri()}?mode=ro&immutable=1"
        try:
            self._db = sqlite3.connect(uri, uri=True, check_same_thread=False)
            meta = dict(self._db.execute("SELECT name, value FROM meta").fetchall())
        except sqlite3.Error as exc:
            raise Icd10DataUnavailable(
                f"{path} is not a readable ICD-10-CM index ({exc}); delete it and run "
                "`handbill icd10 --build-index`"
            ) from exc
        self._lock = threading.Lock()
        self._definitions: dict[int, dict[str, str]] = {}
        self.stamp: str = meta.get("stamp", "")
        self.release = Release(
            name=meta["release"],
            fiscal_year=int(meta["fiscal_year"]),
            effective_from=date.fromisoformat(meta["effective_from"]),
            effective_until=date.fromisoformat(meta["effective_until"]),
        )
        self.package_version: str = meta.get("package_version", "")
        self.code_count = int(meta.get("code_count", "0"))
        self.billable_count = int(meta.get("billable_count", "0"))

    def close(self) -> None:
        self._db.close()

    def get(self, key: str) -> CodeRow | None:
        with self._lock:
            raw = self._db.execute(_SELECT_BY_KEY, (key,)).fetchone()
        return None if raw is None else _row(raw)

    def children(self, key: str) -> list[CodeRow]:
        with self._lock:
            raws = self._db.execute(_SELECT_CHILDREN, (key,)).fetchall()
        return [_row(raw) for raw in raws]

    def seventh_definition(self, definition_id: int) -> dict[str, str]:
        cached = self._definitions.get(definition_id)
        if cached is None:
            with self._lock:
                raw = self._db.execute(
                    "SELECT value FROM seventh_def WHERE id = ?", (definition_id,)
                ).fetchone()
            cached = dict(json.loads(raw[0])) if raw else {}
            self._definitions[definition_id] = cached
        return dict(cached)

    def search_rows(
        self, words: Sequence[str], code_prefix: str | None, limit: int
    ) -> list[CodeRow]:
        """Billable codes and codes that take a 7th character, in code order, whose key starts
        with ``code_prefix`` and whose description (or 7th-character meanings) hold every one
        of ``words``; titles holding the words as one phrase come first."""
        clauses = ["(c.billable = 1 OR c.seventh != '')"]
        params: list[str | int] = []
        if code_prefix:
            clauses.append("c.key LIKE ? ESCAPE '\\'")
            params.append(_like_escape(code_prefix) + "%")
        for word in words:
            clauses.append("(c.description LIKE ? ESCAPE '\\' OR d.value LIKE ? ESCAPE '\\')")
            pattern = f"%{_like_escape(word)}%"
            params.extend((pattern, pattern))
        params.extend((f"%{_like_escape(' '.join(words))}%", limit))
        # Only the fixed fragments above are joined into the text; every value is bound.
        sql = (
            f"{_SELECT_SEARCH} WHERE {' AND '.join(clauses)}"  # noqa: S608
            " ORDER BY c.description LIKE ? ESCAPE '\\' DESC, c.position LIMIT ?"
        )
        with self._lock:
            raws = self._db.execute(sql, params).fetchall()
        return [_row(raw) for raw in raws]


def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def index_path(directory: Path, release: Release) -> Path:
    return directory / f"{INDEX_PREFIX}{release.name}{INDEX_SUFFIX}"


def open_index(cache_dir: Path | None = None) -> Icd10Index:
    """Open the index for the installed package, building it first (in a child process) when
    it is missing or was built from another package version or schema."""
    directory = cache_dir if cache_dir is not None else default_cache_dir()
    source = installed_source()
    if source is None:
        # Without the package an index built earlier still answers.
        existing = sorted(directory.glob(f"{INDEX_PREFIX}*{INDEX_SUFFIX}"))
        if existing:
            return Icd10Index(existing[-1])
        raise Icd10DataUnavailable(
            f"no ICD-10-CM index in {directory} and the simple-icd-10-cm package is not "
            "installed to build one: install it (pip install simple-icd-10-cm==1.5.0) and run "
            "`handbill icd10 --build-index`"
        )
    path = index_path(directory, source.release)
    if path.exists():
        index = _try_open(path)
        if index is not None and index.stamp == source.stamp:
            return index
        if index is not None:
            index.close()
    build_in_child_process(path)
    return Icd10Index(path)


def index_is_current(cache_dir: Path | None = None) -> bool:
    """True when a first lookup will not have to build the index."""
    directory = cache_dir if cache_dir is not None else default_cache_dir()
    source = installed_source()
    if source is None:
        return any(directory.glob(f"{INDEX_PREFIX}*{INDEX_SUFFIX}"))
    path = index_path(directory, source.release)
    index = _try_open(path) if path.exists() else None
    if index is None:
        return False
    try:
        return index.stamp == source.stamp
    finally:
        index.close()


def _try_open(path: Path) -> Icd10Index | None:
    try:
        return Icd10Index(path)
    except (Icd10DataUnavailable, KeyError, ValueError):
        return None


def build_in_child_process(path: Path) -> None:
    """Build ``path`` in a separate interpreter so this process never holds the package."""
    src_root = str(Path(__file__).resolve().parents[3])
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (src_root, env.get("PYTHONPATH", "")) if p)
    completed = subprocess.run(  # noqa: S603 - our own module, run by this interpreter
        [sys.executable, "-m", "handbill.core.codes.icd10_index", "build", str(path)],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    if completed.returncode != 0:
        detail = (completed.stderr or completed.stdout).strip().splitlines()[-3:]
        raise Icd10DataUnavailable(
            f"building the ICD-10-CM index at {path} failed: {' | '.join(detail)}; "
            "run `handbill icd10 --build-index` to see the whole error"
        )


# --------------------------------------------------------------------------------------------
# Building


@dataclass(frozen=True, slots=True)
class BuildResult:
    path: Path
    release: Release
    package_version: str
    code_count: int  # every code the package knows, 7th-character codes included
    billable_count: int
    stored_rows: int
    size_bytes: int


def build_index(
    path: Path | None = None,
    *,
    cache_dir: Path | None = None,
    code_list_file: Path | None = None,
    tabular_file: Path | None = None,
) -> BuildResult:
    """Read the whole code set from ``simple-icd-10-cm`` and write the index atomically.

    This imports the package (seconds, ~200 MB): call it from a short-lived process, as
    :func:`open_index` and ``handbill icd10 --build-index`` do. Pass the two CDC files of
    another release (``code_list_file`` and ``tabular_file``) to index that release instead;
    the package loads them with ``change_version``.
    """
    if (code_list_file is None) != (tabular_file is None):
        raise ValueError("give both CDC files (code list and tabular XML) or neither")
    source = installed_source()
    if source is None:
        raise Icd10DataUnavailable(
            "the simple-icd-10-cm package is not installed: pip install simple-icd-10-cm==1.5.0"
        )
    with warnings.catch_warnings():
        # The package reads its data through importlib.resources calls that Python 3.11
        # deprecates; the warning is the package's, not something a Handbill user can act on.
        warnings.simplefilter("ignore", DeprecationWarning)
        module = importlib.import_module(PACKAGE)
    if code_list_file is not None and tabular_file is not None:
        module.change_version(str(code_list_file), str(tabular_file))
        release = release_from_file_name(tabular_file.name)
        stamp = (
            f"schema={SCHEMA_VERSION};package={source.package_version};"
            f"tabular={tabular_file.name}:{tabular_file.stat().st_size};"
            f"codes={code_list_file.name}"
        )
    else:
        release, stamp = source.release, source.stamp
    if path is None:
        path = index_path(cache_dir if cache_dir is not None else default_cache_dir(), release)
    rows, definitions, code_count, billable = _extract(module)
    meta = {
        "stamp": stamp,
        "release": release.name,
        "fiscal_year": str(release.fiscal_year),
        "effective_from": release.effective_from.isoformat(),
        "effective_until": release.effective_until.isoformat(),
        "package_version": source.package_version,
        "code_count": str(code_count),
        "billable_count": str(billable),
    }
    write_index(path, meta=meta, rows=rows, definitions=definitions)
    return BuildResult(
        path=path,
        release=release,
        package_version=source.package_version,
        code_count=code_count,
        billable_count=billable,
        stored_rows=len(rows),
        size_bytes=path.stat().st_size,
    )


_SCHEMA = """
CREATE TABLE meta (name TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE seventh_def (id INTEGER PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE code (
    key TEXT PRIMARY KEY,
    position INTEGER NOT NULL,
    code TEXT NOT NULL,
    kind TEXT NOT NULL,
    parent TEXT NOT NULL,
    description TEXT NOT NULL,
    billable INTEGER NOT NULL,
    seventh TEXT NOT NULL,
    seventh_def INTEGER REFERENCES seventh_def (id),
    billable_count INTEGER NOT NULL,
    laterality_unspecified INTEGER NOT NULL
) WITHOUT ROWID;
"""


def write_index(
    path: Path,
    *,
    meta: dict[str, str],
    rows: Iterable[CodeRow],
    definitions: Sequence[dict[str, str]],
) -> None:
    """Write a complete index to a temporary file beside ``path``, then rename it over
    ``path``. A failure part-way leaves ``path`` as it was and no temporary file behind."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(
        dir=path.parent, prefix=f".{path.name}.", suffix=".tmp"
    )
    os.close(handle)
    try:
        db = sqlite3.connect(temporary)
        try:
            db.execute("PRAGMA journal_mode = OFF")
            db.execute("PRAGMA synchronous = OFF")
            db.executescript(_SCHEMA)
            db.executemany("INSERT INTO meta VALUES (?, ?)", sorted(meta.items()))
            db.executemany(
                "INSERT INTO seventh_def VALUES (?, ?)",
                [(i, json.dumps(list(d.items()))) for i, d in enumerate(definitions)],
            )
            db.executemany(
                "INSERT INTO code VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    (r.key, position, r.code, r.kind, r.parent, r.description, int(r.billable),
                     r.seventh, r.seventh_def, r.billable_count, int(r.laterality_unspecified))
                    for position, r in enumerate(rows)
                ),
            )
            db.execute("CREATE INDEX code_parent ON code (parent, position)")
            db.commit()
        finally:
            db.close()
        # mkstemp makes the file private; the index holds no secrets and other users (a web
        # server account) must be able to read it.
        os.chmod(temporary, 0o644)
        with open(temporary, "rb") as written:
            os.fsync(written.fileno())
        # The rename is the commit point: readers see the old file or the whole new one.
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _extract(module: Any) -> tuple[list[CodeRow], list[dict[str, str]], int, int]:
    """Walk the package's code list into rows (no 7th-character codes) and the distinct
    7th-character definitions. Returns rows, definitions, all codes, billable codes."""
    definition_ids: dict[str, int] = {}
    definitions: list[dict[str, str]] = []
    rows: list[CodeRow] = []
    seen: set[str] = set()
    code_count = 0
    billable_total = 0
    for name in module.get_all_codes(True):
        if name in seen:  # a one-category block shares its name with the category (B10)
            continue
        seen.add(name)
        code_count += 1
        if module.is_extended_subcategory(name):
            billable_total += 1  # counted here, resolved from its parent at lookup time
            continue
        if module.is_category(name):
            kind = "category"
        elif module.is_subcategory(name):
            kind = "subcategory"
        elif module.is_chapter(name):
            kind = "chapter"
        else:
            kind = "block"
        parent = module.get_parent(name)
        if parent == name:
            parent = module.get_parent(name, prioritize_blocks=True)
        billable = kind in ("category", "subcategory") and bool(module.is_leaf(name))
        billable_total += int(billable)
        seventh = ""
        definition_id: int | None = None
        if kind in ("category", "subcategory"):
            children = module.get_children(name)
            extended = [c for c in children if module.is_extended_subcategory(c)]
            if extended and len(extended) != len(children):
                raise Icd10DataUnavailable(f"{name} mixes 7th-character and other children")
            seventh = "".join(child[-1] for child in extended)
            definition = module.get_seven_chr_def(name, search_in_ancestors=True)
            if definition:
                encoded = json.dumps(sorted(definition.items()))
                if encoded not in definition_ids:
                    definition_ids[encoded] = len(definitions)
                    definitions.append(dict(definition))
                definition_id = definition_ids[encoded]
        rows.append(
            CodeRow(
                key=_key(name),
                code=name,
                kind=kind,
                parent=_key(parent) if parent else "",
                description=module.get_description(name),
                billable=billable,
                seventh=seventh,
                seventh_def=definition_id,
                billable_count=0,
                laterality_unspecified=False,
            )
        )
    rows = _with_counts_and_laterality(rows)
    return rows, definitions, code_count, billable_total


def _key(name: str) -> str:
    return name if "-" in name else name.replace(".", "")


_UNSPECIFIED = re.compile(r"\bunspecified\b", re.IGNORECASE)


def _with_counts_and_laterality(rows: list[CodeRow]) -> list[CodeRow]:
    counts: dict[str, int] = {}
    # The package lists codes parent first, so walking backwards sums children into parents.
    for row in reversed(rows):
        own = int(row.billable) + len(row.seventh) + counts.get(row.key, 0)
        counts[row.key] = own
        if row.parent:
            counts[row.parent] = counts.get(row.parent, 0) + own
    titles = {row.description for row in rows}
    return [
        row._replace(
            billable_count=counts[row.key],
            laterality_unspecified=row.kind in ("category", "subcategory")
            and _names_a_side_left_open(row.description, titles),
        )
        for row in rows
    ]


def _names_a_side_left_open(title: str, titles: set[str]) -> bool:
    """True when the title says "unspecified" where a sibling title says "right" or "left"
    (M25.519 "Pain in unspecified shoulder" beside "Pain in right shoulder")."""
    if "unspecified side" in title.lower():
        return True
    for match in _UNSPECIFIED.finditer(title):
        for side in ("right", "left"):
            word = side.capitalize() if match.group(0)[0].isupper() else side
            if title[: match.start()] + word + title[match.end() :] in titles:
                return True
    return False


def iter_extended(row: CodeRow) -> Iterator[str]:
    """The 7th-character codes (dotted) of a code that takes one: S13.4 → S13.4XXA, …"""
    stem = padded_stem(row.code)
    for character in row.seventh:
        yield stem + character


def padded_stem(code: str) -> str:
    """A code padded with the placeholder X to six characters: S13.4 → S13.4XX, T07 → T07.XXX."""
    stem = code if "." in code else code + "."
    return stem.ljust(7, "X")


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m handbill.core.codes.icd10_index build [PATH]``: used by open_index."""
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] != "build" or len(args) > 2:
        print("usage: python -m handbill.core.codes.icd10_index build [PATH]", file=sys.stderr)
        return 2
    result = build_index(Path(args[1]) if len(args) == 2 else None)
    print(json.dumps({"path": str(result.path), "release": result.release.name,
                      "codes": result.code_count, "billable": result.billable_count,
                      "rows": result.stored_rows, "bytes": result.size_bytes}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
