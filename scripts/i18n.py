"""The Chinese edition: gettext catalogues from the English notebooks, Chinese notebooks from them.

Usage:
    python scripts/i18n.py update   # extract the messages, merge them into i18n/zh/*.po (msgmerge)
                                    # and course_utils' own into course_utils/locale/zh.po
    python scripts/i18n.py build    # write notebooks/zh/*.ipynb from the notebooks and the catalogues
    python scripts/i18n.py font     # subset the CJK font to what the edition draws (make i18n)
    python scripts/i18n.py check    # list what is untranslated, stale (fuzzy) or broken; exit 1 if any

The English notebooks are the one source. A message is
- in a markdown cell, a paragraph, heading, list item or table cell, as mdpo's md2po splits it
  (rewrapping the English changes no message);
- in a code cell, a comment (consecutive full-line comments form one message), a docstring, or
  a string literal that is printed or drawn: an argument of ``print`` or of a text-drawing call
  (``set_title``, ``xlabel``, ``text``, ...), the value of a keyword such as ``label=``, a
  table's labels (dicts given to ``DataFrame`` or ``append``), or a literal that a name so used
  takes in the cell (``for title, xlabel in panels``). ``ast`` says which literals those are and
  ``tokenize`` where they are; an f-string is one message with its ``{fields}`` (a field that is
  only a string literal, ``{'method':<24}``, is a header whose text and width may change), and
  literals concatenated implicitly are joined into one;
- a figure cell's alt text (its ``alt`` metadata).
A message with nothing to translate (display math, a code span alone) is filled in as itself.

``build`` drops stale (fuzzy) entries first, so a stale message shows in English, never as the
old translation of a different text; ``check`` (and tests/test_i18n.py) fails until it is
translated again. Cell ids, tags and all other metadata carry over; outputs are not copied:
``make zh`` builds the Chinese notebooks and runs them to store their own.
"""

import ast
import copy
import io
import re
import subprocess
import sys
import tempfile
import tokenize
import unicodedata
from pathlib import Path

import nbformat
import polib
from mdpo.md2po import markdown_to_pofile
from mdpo.po2md import pofile_to_markdown

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
LANG = "zh"
CATALOGUES = ROOT / "i18n" / LANG
OUT = NOTEBOOKS / LANG

# Calls whose arguments are shown to the reader, and keywords whose value is.
SHOWN_CALLS = {"print", "set_title", "set_xlabel", "set_ylabel", "title", "xlabel", "ylabel",
               "suptitle", "text", "annotate", "legend", "set_label", "set_text", "figtext"}
SHOWN_KEYWORDS = {"label", "title", "xlabel", "ylabel", "legend", "description", "desc"}
# Comments that are instructions to a tool, not to the reader.
TOOL_COMMENT = re.compile(r"^#+\s*(NBVAL_|BEGIN |END |@save|noqa|type:|pragma|!)")
WORD = re.compile(r"[A-Za-z]{2,}")
MATH = re.compile(r"\$\$.*?\$\$|\$[^$]*\$", re.S)
CODE_SPAN = re.compile(r"`[^`]*`")
WIDTH = 88  # a translated comment block is rewrapped to this many columns (CJK counts 2)


def notebooks() -> list[Path]:
    return sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))


def catalogue(notebook: Path) -> Path:
    return CATALOGUES / f"{notebook.name[:2]}.po"


# ---- code cells: where the messages are -------------------------------------------------------

def _blank_magics(source: str) -> str:
    """IPython lines (``%magic``, ``!shell``) as blank lines of the same length, so positions hold."""
    return "\n".join(" " * len(line) if line.lstrip().startswith(("%", "!")) else line
                     for line in source.split("\n"))


def _literals(source: str) -> list[tuple[tuple[int, int], tuple[int, int], str]]:
    """Every string literal as (start, end, text); an f-string is one literal on every Python."""
    pieces, open_at = [], []
    for tok in tokenize.generate_tokens(io.StringIO(source).readline):
        name = tokenize.tok_name[tok.type]
        if name == "STRING" and not open_at:  # not a literal inside an f-string's field
            pieces.append((tok.start, tok.end, tok.string))
        elif name in ("FSTRING_START", "TSTRING_START"):       # Python 3.12+
            open_at.append(tok.start)
        elif name in ("FSTRING_END", "TSTRING_END"):
            start = open_at.pop()
            if not open_at:
                pieces.append((start, tok.end, _span(source, start, tok.end)))
    return pieces


def _span(source: str, start, end) -> str:
    lines = source.split("\n")
    if start[0] == end[0]:
        return lines[start[0] - 1][start[1]:end[1]]
    return "\n".join([lines[start[0] - 1][start[1]:], *lines[start[0]:end[0] - 1],
                      lines[end[0] - 1][:end[1]]])


def _split_literal(literal: str) -> tuple[str, str, str]:
    """'f"x={x}"' -> ('f"', 'x={x}', '"')."""
    prefix = re.match(r"[A-Za-z]*", literal).group()
    quote = literal[len(prefix):len(prefix) + 3]
    quote = quote if quote in ('"""', "'''") else literal[len(prefix)]
    return prefix + quote, literal[len(prefix) + len(quote):-len(quote)], quote


def _is_f(literal: str) -> bool:
    """Whether a literal is an f-string (prefix f, rf, Rf, ...)."""
    return "f" in re.match(r"[A-Za-z]*", literal).group().lower()


def _char_col(line: str, byte_col: int) -> int:
    return len(line.encode()[:byte_col].decode())


def _shown_nodes(tree: ast.AST, lines: list[str]) -> list[tuple[tuple[int, int], tuple[int, int]]]:
    """Spans (start, end) of the string expressions a reader sees: printed, drawn, docstrings."""
    spans = []

    def add(node):
        for sub in ast.walk(node):
            if isinstance(sub, ast.JoinedStr) or (isinstance(sub, ast.Constant)
                                                  and isinstance(sub.value, str)):
                spans.append(((sub.lineno, _char_col(lines[sub.lineno - 1], sub.col_offset)),
                              (sub.end_lineno, _char_col(lines[sub.end_lineno - 1],
                                                         sub.end_col_offset))))

    shown = []  # the expressions a reader sees
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if name in SHOWN_CALLS:
                args = node.args if name in ("print", "legend") else node.args[:1]
                if name in ("text", "figtext"):
                    args = node.args[2:3]
                shown += args
            if name in ("DataFrame", "append"):  # a table: its labels and cells are shown
                for table in (sub for arg in node.args for sub in ast.walk(arg)
                              if isinstance(sub, ast.Dict)):
                    shown += [item for item in (*table.keys, *table.values) if item is not None
                              and not isinstance(item, ast.Call)]
                    shown += _returned_dicts(tree, [v for k, v in zip(table.keys, table.values)
                                                    if k is None and isinstance(v, ast.Call)])
            shown += [k.value for k in node.keywords if k.arg in SHOWN_KEYWORDS
                      or (name == "DataFrame" and k.arg in ("index", "columns"))]
        elif isinstance(node, (ast.FunctionDef, ast.ClassDef, ast.AsyncFunctionDef)):
            doc = node.body[0] if node.body else None
            if isinstance(doc, ast.Expr) and isinstance(doc.value, ast.Constant) \
                    and isinstance(doc.value.value, str):
                add(doc.value)
    names = {sub.id for expr in shown for sub in ast.walk(expr) if isinstance(sub, ast.Name)}
    for expr in shown + _bound_strings(tree, names):
        add(expr)
    return spans


def _returned_dicts(tree: ast.AST, calls: list[ast.Call]) -> list[ast.AST]:
    """The keys of the dict literals that the cell's functions called in ``calls`` return
    (``{"n": n, **timings(...)}``: timings' keys are a table's labels too)."""
    names = {getattr(call.func, "id", None) for call in calls}
    return [key for node in ast.walk(tree)
            if isinstance(node, ast.FunctionDef) and node.name in names
            for ret in ast.walk(node) if isinstance(ret, ast.Return) and isinstance(ret.value, ast.Dict)
            for key in ret.value.keys if key is not None]


def _bound_strings(tree: ast.AST, names: set[str]) -> list[ast.AST]:
    """The string literals that shown names take in the cell: ``label = "train"``, or a loop
    ``for name, (title, xlabel) in zip(keys, panels)`` over literals (lists, tuples, dicts,
    ``zip``, ``.items()``), position by position, so that a key beside a label stays code."""
    assigned = {t.id: node.value for node in ast.walk(tree) if isinstance(node, ast.Assign)
                for t in node.targets if isinstance(t, ast.Name)}

    def items(expr) -> list:
        expr = assigned.get(expr.id, expr) if isinstance(expr, ast.Name) else expr
        if isinstance(expr, (ast.List, ast.Tuple, ast.Set)):
            return list(expr.elts)
        if isinstance(expr, ast.Dict):
            return list(expr.keys)
        if isinstance(expr, ast.Call) and isinstance(expr.func, ast.Attribute) \
                and expr.func.attr in ("items", "keys", "values"):
            inner = expr.func.value
            inner = assigned.get(inner.id, inner) if isinstance(inner, ast.Name) else inner
            if isinstance(inner, ast.Dict):
                pairs = list(zip(inner.keys, inner.values))
                return {"items": [ast.Tuple(elts=list(p)) for p in pairs],
                        "keys": [k for k, _ in pairs], "values": [v for _, v in pairs]}[
                    expr.func.attr]
        if isinstance(expr, ast.Call) and getattr(expr.func, "id", "") == "zip":
            columns = [items(arg) for arg in expr.args]  # [] where an argument is not a literal
            longest = max(map(len, columns), default=0)
            columns = [column or [None] * longest for column in columns]
            return [ast.Tuple(elts=list(row)) for row in zip(*columns)]
        return []

    def bind(target, value, found):
        if isinstance(value, ast.IfExp):  # label = "a" if ok else "b": both
            bind(target, value.body, found)
            bind(target, value.orelse, found)
        elif isinstance(target, ast.Name) and target.id in names and value is not None:
            found.append(value)
        elif isinstance(target, (ast.Tuple, ast.List)) and isinstance(value, (ast.Tuple, ast.List)) \
                and len(target.elts) == len(value.elts):
            for t, v in zip(target.elts, value.elts):
                bind(t, v, found)

    found = []
    for node in ast.walk(tree):
        if isinstance(node, (ast.For, ast.comprehension)):
            for value in items(node.iter):
                bind(node.target, value, found)
        elif isinstance(node, ast.Assign):
            for target in node.targets:
                if isinstance(node.value, (ast.Constant, ast.JoinedStr, ast.IfExp, ast.BinOp)):
                    bind(target, node.value, found)  # BinOp: "a" + ("b" if c else "")
    return [sub for v in found for sub in ast.walk(v) if isinstance(sub, ast.JoinedStr)
            or (isinstance(sub, ast.Constant) and isinstance(sub.value, str))]


def code_messages(source: str) -> list[dict]:
    """The messages of one code cell, each {'msgid', 'start', 'end', 'kind', ...}, in order."""
    text = _blank_magics(source)
    lines = text.split("\n")
    tree = ast.parse(text)
    spans = _shown_nodes(tree, lines)
    found = []
    # String literals inside a shown expression; neighbours of one expression are joined.
    groups: dict[tuple, list] = {}
    for start, end, literal in _literals(text):
        owner = [s for s in spans if s[0] <= start and end <= s[1]]
        if not owner:
            continue
        outer = min(owner, key=lambda s: (s[0], (-s[1][0], -s[1][1])))
        groups.setdefault(outer, []).append((start, end, literal))
    for outer, pieces in groups.items():
        run = [pieces[0]]
        for piece in pieces[1:] + [None]:
            prev = run[-1]
            joinable = (piece is not None and _is_f(piece[2]) == _is_f(prev[2])
                        and _span(text, prev[1], piece[0]).strip() in ("", "\\"))
            if joinable:
                run.append(piece)
                continue
            body = "".join(_split_literal(lit)[1] for _, _, lit in run)
            if WORD.search(MATH.sub("", FIELD.sub(lambda m: _text_field(m.group())[1], body))):
                kind = "f-string" if _is_f(run[0][2]) else "string"
                found.append({"msgid": body, "start": run[0][0], "end": run[-1][1],
                              "kind": kind, "literal": run[0][2]})
            run = [piece] if piece else []
    # Comments: a block of full-line comments at one column is one message.
    block = None
    for tok in tokenize.generate_tokens(io.StringIO(text).readline):
        if tok.type != tokenize.COMMENT or TOOL_COMMENT.match(tok.string):
            block = None if tok.type not in (tokenize.NL, tokenize.NEWLINE) or block is None \
                or block["end"][0] < tok.start[0] - 1 else block
            continue
        full_line = not lines[tok.start[0] - 1][:tok.start[1]].strip()
        words = tok.string.lstrip("#").strip()
        if (block and full_line and block["full_line"] and block["start"][1] == tok.start[1]
                and block["end"][0] == tok.start[0] - 1):
            block["msgid"] += " " + words
            block["end"] = tok.end
            continue
        block = {"msgid": words, "start": tok.start, "end": tok.end, "kind": "comment",
                 "full_line": full_line}
        if WORD.search(words):
            found.append(block)
    return sorted(found, key=lambda m: m["start"])


def _wrap(text: str, width: int) -> list[str]:
    """Lines of at most ``width`` columns (CJK characters count 2), broken at spaces or between
    CJK characters, never inside an English word or a code span."""
    tokens = re.findall(r"`[^`]*`|[\x21-\x7e\u00a0-\u10ff]+| |.", text)
    lines, line = [], ""
    for token in tokens:
        if _columns(line + token) > width and line.strip():
            lines.append(line.rstrip())
            line = token.lstrip()
        else:
            line += token
    return lines + [line.rstrip()] if line.strip() else lines


def _columns(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def translate_code(source: str, translate, labels: frozenset = frozenset()) -> str:
    """``source`` with every message replaced by ``translate(msgid)`` (None keeps the English).

    ``labels`` are the notebook's plain-string messages: any other literal equal to one of them
    (a table's column label in ``set_index("method")``, a key in ``runs["lr 0.03"]``) is the
    same name and is translated with it, so that code using it as a key keeps working."""
    text = _blank_magics(source)
    lines = source.split("\n")
    messages = code_messages(source)
    taken = {m["start"] for m in messages}
    for start, end, literal in _literals(text):
        body = _split_literal(literal)[1]
        if start not in taken and body in labels and not _is_f(literal):
            messages.append({"msgid": body, "start": start, "end": end, "kind": "string",
                             "literal": literal})
    for message in sorted(messages, key=lambda m: m["start"], reverse=True):
        new = translate(message["msgid"])
        if new is None or new == message["msgid"]:
            continue
        (r1, c1), (r2, c2) = message["start"], message["end"]
        if message["kind"] == "comment":
            hashes = re.match(r"#+\s?", _span(text, message["start"], message["end"])).group()
            if message["full_line"]:
                indent = " " * c1
                wrapped = _wrap(new, WIDTH - c1 - len(hashes))
                replacement = ("\n" + indent).join(hashes + part for part in wrapped)
            else:
                replacement = hashes + new
        else:
            opening, _, closing = _split_literal(message["literal"])
            replacement = opening + new + closing
        head, tail = lines[r1 - 1][:c1], lines[r2 - 1][c2:]
        lines[r1 - 1:r2] = (head + replacement + tail).split("\n")
    return "\n".join(lines)


# ---- catalogues -------------------------------------------------------------------------------

def one_line_math(markdown: str) -> str:
    """Each ``$$...$$`` block on one line: md2po joins a block's lines without a space
    (``\\partial\\nv`` becomes ``\\partialv``) and reads a line starting with ``+`` as a list item."""
    return re.sub(r"\$\$(.+?)\$\$", lambda m: "$$" + " ".join(m.group(1).split()) + "$$",
                  markdown, flags=re.S)


def _markdown_kind(msgid: str, source: str) -> str:
    """"display math" for a ``$$...$$`` block (md2po gives its TeX without the dollars)."""
    blocks = (" ".join(m.group(1).split()) for m in re.finditer(r"\$\$(.+?)\$\$", source, re.S))
    return "display math" if " ".join(msgid.split()) in blocks else "markdown"


def nothing_to_translate(msgid: str, kind: str = "") -> bool:
    """True for display math, a code span alone, numbers: no words outside math and code."""
    if kind == "display math":
        msgid = f"$${msgid}$$"
    rest = CODE_SPAN.sub("", MATH.sub("", msgid))
    return not WORD.search(rest) and not re.search(r"\\text\{[^}]*[A-Za-z]{2}", msgid)


def extract(notebook: Path) -> polib.POFile:
    """The English messages of one notebook, as a template (empty msgstr)."""
    nb = nbformat.read(notebook, as_version=4)
    pot = polib.POFile(wrapwidth=0)
    pot.metadata = {"Content-Type": "text/plain; charset=UTF-8", "Language": LANG}
    seen = {}
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            source = one_line_math(cell.source)
            entries = [(e.msgid, _markdown_kind(e.msgid, source))
                       for e in markdown_to_pofile(source)]
        elif cell.cell_type == "code":
            entries = [(m["msgid"], m["kind"]) for m in code_messages(cell.source)]
            if "alt" in cell.metadata:
                entries.append((cell.metadata["alt"], "alt text"))
        else:
            continue
        for msgid, kind in entries:
            if msgid not in seen:
                seen[msgid] = polib.POEntry(msgid=msgid, msgstr="", occurrences=[],
                                            comment=f"{kind}")
                pot.append(seen[msgid])
            seen[msgid].occurrences.append((f"{notebook.name[:2]}:{cell.get('id', '?')}", ""))
    return pot


def msgmerge(catalogue_path: Path, template: Path) -> None:
    """GNU gettext's merge: translations of unchanged English kept, changed ones fuzzy (with the
    old English as ``#| msgid``), new ones empty."""
    subprocess.run(["msgmerge", "--quiet", "--update", "--backup=none", "--previous", "--no-wrap",
                    str(catalogue_path), str(template)], check=True)


def update(notebook: Path, path: Path | None = None) -> polib.POFile:
    """Merge the notebook's messages into its catalogue: msgmerge keeps every translation whose
    English is unchanged and marks the ones whose English changed fuzzy (with the old English)."""
    path = path or catalogue(notebook)
    path.parent.mkdir(parents=True, exist_ok=True)
    pot = extract(notebook)
    if path.exists():
        with tempfile.TemporaryDirectory() as tmp:
            pot.save(str(Path(tmp) / "messages.pot"))
            msgmerge(path, Path(tmp) / "messages.pot")
        po = polib.pofile(str(path), wrapwidth=0)
        for entry in po.obsolete_entries():
            po.remove(entry)
    else:
        po = pot
    for entry in po:
        if nothing_to_translate(entry.msgid, entry.comment):
            entry.msgstr = entry.msgid
            entry.flags = [f for f in entry.flags if f != "fuzzy"]
            entry.previous_msgid = None
    po.save(str(path))
    return po


COURSE_UTILS = ROOT / "course_utils"
COURSE_UTILS_PO = COURSE_UTILS / "locale" / f"{LANG}.po"


def update_course_utils(path: Path = COURSE_UTILS_PO) -> polib.POFile:
    """Extract what course_utils prints or draws for a student (``_("...")`` and ``N_("...")``
    in its modules, with ``# TRANSLATORS:`` comments) with xgettext and merge it into its own
    catalogue with msgmerge, as ``update`` does for a notebook."""
    sources = sorted(str(f.relative_to(ROOT)) for f in COURSE_UTILS.glob("*.py"))
    with tempfile.TemporaryDirectory() as tmp:
        pot = Path(tmp) / "course_utils.pot"
        subprocess.run(["xgettext", "--language=Python", "--keyword=_", "--keyword=N_",
                        "--from-code=UTF-8", "--no-wrap", "--add-comments=TRANSLATORS:",
                        "--sort-by-file", "-o", str(pot), *sources],
                       check=True, cwd=ROOT)
        template = polib.pofile(str(pot), wrapwidth=0)
        for entry in template:  # str.format templates only: "10 % up to" is no %-directive
            entry.flags = [f for f in entry.flags if f != "python-format"]
        template.save(str(pot))
        if path.exists():
            msgmerge(path, pot)
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            new = template
            new.header = "The messages course_utils prints or draws: scripts/i18n.py update"
            new.metadata = {"Content-Type": "text/plain; charset=UTF-8", "Language": LANG}
            new.metadata_is_fuzzy = False
            new.save(str(path))
    po = polib.pofile(str(path), wrapwidth=0)
    for entry in po.obsolete_entries():
        po.remove(entry)
    po.save(str(path))
    return po


def translations(path: Path) -> dict[str, str]:
    """msgid -> msgstr for the current (translated, not fuzzy) entries of a catalogue."""
    po = polib.pofile(str(path))
    return {e.msgid: e.msgstr for e in po if e.msgstr and not e.fuzzy and not e.obsolete}


def build(notebook: Path, path: Path | None = None) -> nbformat.NotebookNode:
    """The Chinese notebook: the English one with each current translation put in; no outputs."""
    table = translations(path or catalogue(notebook))
    nb = nbformat.read(notebook, as_version=4)
    zh = copy.deepcopy(nb)
    with tempfile.TemporaryDirectory() as tmp:
        current = polib.POFile(wrapwidth=0)
        current.extend(polib.POEntry(msgid=k, msgstr=v) for k, v in table.items())
        po_path = str(Path(tmp) / "current.po")
        current.save(po_path)
        labels = frozenset(m["msgid"] for cell in nb.cells if cell.cell_type == "code"
                           for m in code_messages(cell.source) if m["kind"] == "string")
        for cell in zh.cells:
            if cell.cell_type == "markdown":
                cell.source = pofile_to_markdown(one_line_math(cell.source), po_path,
                                                 wrapwidth=float("inf")).rstrip("\n")
            elif cell.cell_type == "code":
                cell.source = translate_code(cell.source, table.get, labels)
                if "alt" in cell.metadata:
                    cell.metadata["alt"] = table.get(cell.metadata["alt"], cell.metadata["alt"])
                cell.source = cell.source.replace("use_course_style()",
                                                  f'use_course_style(language="{LANG}")')
                cell.outputs, cell.execution_count = [], None
    _retarget_anchors(nb, zh)
    return zh


def _slug(heading: str) -> str:
    """A heading's anchor as JupyterLab (and the site, site/course_site.py) makes it."""
    return heading.strip().replace(" ", "-")


def _retarget_anchors(english, zh) -> None:
    """Links to a heading of the notebook (``](#The-short-last-batch)``) point at the same
    heading of the Chinese notebook, whose anchor is its Chinese text."""
    slugs = {}
    for en, cn in zip(english.cells, zh.cells):
        if en.cell_type == "markdown":
            heads = [re.findall(r"^#{1,6} (.+)$", c.source, re.M) for c in (en, cn)]
            slugs.update((_slug(a), _slug(b)) for a, b in zip(*heads))
    for cell in zh.cells:
        if cell.cell_type == "markdown":
            cell.source = re.sub(r"\]\(#([^)\s]+)\)",
                                 lambda m: f"](#{slugs.get(m.group(1), m.group(1))})",
                                 cell.source)


def write(notebook: Path) -> tuple[Path, bool]:
    """Write the Chinese notebook; (its path, whether it changed)."""
    OUT.mkdir(exist_ok=True)
    target = OUT / notebook.name
    new = build(notebook)
    if target.exists():  # unchanged: keep the file, with the outputs stored in it
        old = nbformat.read(target, as_version=4)
        if [(c.source, c.metadata) for c in old.cells] == [(c.source, c.metadata) for c in new.cells]:
            return target, False
    nbformat.write(new, target)
    return target, True


# ---- checks -----------------------------------------------------------------------------------

FIELD = re.compile(r"\{[^{}]*\}")
TEXT_FIELD = re.compile(r"""\{(['"])([^'"{}]*)\1(?::([<>^]?)\d*)?\}""")


def _text_field(field: str) -> tuple[str, str]:
    """A field that is only a string literal, ``{'method':<10}``, is text padded to a width:
    (the field with its text and width taken out, ``{'':<}``, its text). Other fields: (itself, "")."""
    match = TEXT_FIELD.fullmatch(field)
    return (f"{{'':{match.group(3) or ''}}}", match.group(2)) if match else (field, "")


def fields(text: str) -> list[str]:
    """The f-string fields a translation must keep; a text field may change its text and width."""
    return sorted(_text_field(field)[0] for field in FIELD.findall(text))
PLACEHOLDER = re.compile(r"%(?:\([^)]*\))?[-#0 +]*\d*(?:\.\d+)?[sdifgeEr%]")


def _math(text: str) -> list[str]:
    """Math spans with the words inside ``\\text{...}`` taken out (those are translated)."""
    return sorted(re.sub(r"\\(text|mathrm|operatorname)\{[^}]*\}", r"\\\1{}", m.group())
                  for m in MATH.finditer(text))


def problems(path: Path, msgids: list[str] | None = None) -> list[str]:
    """What is wrong with a catalogue: untranslated, fuzzy, or a translation that changes the
    math, a code span, an f-string field or a placeholder, or whose code does not compile."""
    po = polib.pofile(str(path))
    found = []
    current = {e.msgid for e in po if not e.obsolete}
    for msgid in msgids or []:
        if msgid not in current:
            found.append(f"{path.name}: not in the catalogue (run `make i18n`): {msgid[:70]!r}")
    for e in po:
        if e.obsolete:
            continue
        where = f"{path.name}:{e.linenum} {e.msgid[:60]!r}"
        if e.fuzzy:
            found.append(f"{where}: stale (fuzzy): the English changed since it was translated")
            continue
        if not e.msgstr:
            found.append(f"{where}: untranslated")
            continue
        kind = e.comment or ""
        pairs = [("math", _math), ("code span", lambda t: sorted(CODE_SPAN.findall(t)))]
        if kind == "display math":
            pairs = [("math", lambda t: _math(f"$${t}$$"))]
        if "string" in kind or "f-string" in kind:
            pairs = [("field", fields),
                     ("placeholder", lambda t: sorted(PLACEHOLDER.findall(t)))]
        if kind == "comment":
            pairs = [("code span", lambda t: sorted(CODE_SPAN.findall(t)))]
        for label, find in pairs:
            if find(e.msgid) != find(e.msgstr):
                found.append(f"{where}: {label}s differ: {find(e.msgid)} -> {find(e.msgstr)}")
        if "您" in e.msgstr:
            found.append(f"{where}: use 你, not 您")
    return found


def compile_errors(nb) -> list[str]:
    """Code cells of a built notebook that are not valid Python."""
    errors = []
    for cell in nb.cells:
        if cell.cell_type == "code":
            try:
                ast.parse(_blank_magics(cell.source))
            except SyntaxError as error:
                errors.append(f"cell {cell.get('id')}: {error}")
    return errors


SOURCE_FONT = Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc")  # Debian fonts-wqy-microhei
FONT = ROOT / "course_utils" / "resources" / "fonts" / "wqy-microhei-subset.ttf"


def font_text() -> str:
    """What the course's CJK font must draw: GB 2312's symbols and full-width forms (rows 1-9)
    and its 3,755 level-1 characters (the common ones, for what a student types), printable
    ASCII, and every character of the translations."""
    level1 = (bytes([row, cell]).decode("gb2312", errors="ignore")
              for row in [*range(0xA1, 0xAA), *range(0xB0, 0xD8)] for cell in range(0xA1, 0xFF))
    translated = (e.msgstr for path in sorted(CATALOGUES.glob("*.po")) + [COURSE_UTILS_PO]
                  if path.exists()
                  for e in polib.pofile(str(path)))
    return "".join(sorted(set("".join(level1)) | set(map(chr, range(0x20, 0x7F)))
                          | set("".join(translated)) - set("\n")))


def font() -> Path:
    """Subset WenQuanYi Micro Hei to ``font_text()``: about 0.8 MB instead of 5 MB."""
    from fontTools import subset
    options = subset.Options()
    options.font_number = 0
    options.layout_features = ["*"]
    options.drop_tables += ["FFTM"]  # FontForge's timestamps: nothing to draw
    fonts = subset.load_font(str(SOURCE_FONT), options, dontLoadGlyphNames=True)
    subsetter = subset.Subsetter(options)
    subsetter.populate(text=font_text())
    subsetter.subset(fonts)
    for table in fonts["cmap"].tables:  # the font has no U+2212 MINUS SIGN, which matplotlib
        if table.isUnicode():           # puts in tick labels: draw it with its hyphen-minus
            table.cmap[0x2212] = table.cmap[ord("-")]
    subset.save_font(fonts, str(FONT), options)
    return FONT


def main(argv: list[str]) -> int:
    command = argv[0] if argv else "check"
    chosen = [nb for nb in notebooks() if len(argv) < 2 or nb.name[:2] in argv[1:]]
    if command == "update":
        for nb in chosen:
            po = update(nb)
            print(f"{catalogue(nb).relative_to(ROOT)}: {len(po)} messages, "
                  f"{po.percent_translated()} % translated, {len(po.fuzzy_entries())} fuzzy")
        if len(argv) < 2:  # everything: course_utils' own messages too
            po = update_course_utils()
            print(f"{COURSE_UTILS_PO.relative_to(ROOT)}: {len(po)} messages, "
                  f"{po.percent_translated()} % translated, {len(po.fuzzy_entries())} fuzzy")
        return 0
    if command == "font":
        print(f"wrote {font().relative_to(ROOT)} ({FONT.stat().st_size // 1000} kB)")
        return 0
    if command == "build":
        for nb in chosen:
            path, changed = write(nb)
            print(f"{'wrote' if changed else 'unchanged'} {path.relative_to(ROOT)}")
        return 0
    found = problems(COURSE_UTILS_PO) if len(argv) < 2 else []
    for nb in chosen:
        found += problems(catalogue(nb), [e.msgid for e in extract(nb)])
        found += [f"{nb.name[:2]}: {e}" for e in compile_errors(build(nb))]
    print("\n".join(found) or "all messages translated, current and consistent")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
