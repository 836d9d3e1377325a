"""The Chinese edition stays in step with the English source (scripts/i18n.py, README.zh.md).

Every message translated and current; translations keep the math, code spans, f-string fields
and placeholders; translated code compiles; the stored Chinese notebooks are what the
catalogues build; figures draw Chinese with the course's font and no missing glyph. The tests
at the end show each check failing on a stale, missing or broken translation.
"""

import ast
import io
import re
import shutil
import sys
import warnings
from pathlib import Path

import matplotlib
import nbformat
import polib
import pytest
from fontTools.ttLib import TTFont
from markdown_it import MarkdownIt
from mdit_py_plugins.dollarmath import dollarmath_plugin

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))
import i18n  # noqa: E402

NOTEBOOKS = i18n.notebooks()
IDS = [nb.name[:2] for nb in NOTEBOOKS]
CJK = r"\u3400-\u9fff"
COURSE_UTILS_PO = ROOT / "course_utils" / "locale" / "zh.po"


@pytest.fixture(scope="module", params=NOTEBOOKS, ids=IDS)
def edition(request):
    """An English notebook, its catalogue, a fresh build and the stored Chinese notebook."""
    english = request.param
    stored = i18n.OUT / english.name
    return english, i18n.catalogue(english), i18n.build(english), \
        nbformat.read(stored, as_version=4) if stored.exists() else None


def test_every_message_is_translated_and_current(edition):
    english, catalogue, _, _ = edition
    assert i18n.problems(catalogue, [e.msgid for e in i18n.extract(english)]) == []


def test_translated_code_compiles(edition):
    assert i18n.compile_errors(edition[2]) == []


def test_stored_chinese_notebook_is_the_fresh_build(edition):
    """Same cells, ids, sources and metadata as a build from the catalogues now: after changing
    a notebook or a catalogue, `make zh` rebuilds and re-runs the Chinese edition."""
    english, _, built, stored = edition
    assert stored is not None, f"notebooks/zh/{english.name} is missing: run `make zh`"
    assert [(c.get("id"), c.cell_type, c.source, c.metadata) for c in stored.cells] == \
        [(c.get("id"), c.cell_type, c.source, c.metadata) for c in built.cells]
    assert stored.metadata == built.metadata


def test_cell_ids_tags_and_slides_carry_over(edition):
    english = nbformat.read(edition[0], as_version=4)
    built = edition[2]
    assert [c.get("id") for c in built.cells] == [c.get("id") for c in english.cells]
    for en, zh in zip(english.cells, built.cells):
        assert {k: v for k, v in zh.metadata.items() if k != "alt"} == \
            {k: v for k, v in en.metadata.items() if k != "alt"}


def _rendered_text(markdown: str) -> str:
    """The visible text of rendered markdown, without code and math."""
    md = MarkdownIt("commonmark").enable("table").use(dollarmath_plugin)
    text = []
    for token in md.parse(markdown):
        for child in token.children or []:
            if child.type == "text":
                text.append(child.content)
    return " ".join(text)


def test_emphasis_renders_in_chinese_prose(edition):
    """No `**` or `*` left as literal text: full-width punctuation just inside a delimiter run
    next to a Chinese character breaks CommonMark's flanking rule."""
    stray = [(c.get("id"), re.findall(r".{0,12}\*.{0,12}", _rendered_text(c.source)))
             for c in edition[2].cells if c.cell_type == "markdown"]
    assert [s for s in stray if s[1]] == []


def test_style_of_the_translation(edition):
    """d2l-zh's conventions (glossary) in the prose (markdown, comments, alt text; printed
    strings pad columns with spaces): 你 not 您; no space between Chinese and Latin letters,
    digits, math or code, except after a section number and in 练习 03.1; full-width
    punctuation between Chinese words; 自动求导 only where the notes' own title has it."""
    found = []
    for entry in polib.pofile(str(edition[1])):
        text = entry.msgstr
        if "您" in text or ("自动求导" in text and "自动求导" not in entry.msgid
                           and not entry.msgid.startswith(tuple("0123456789"))):
            found.append(f"您 or 自动求导: {text[:60]}")
        if entry.comment not in ("markdown", "comment", "alt text"):
            continue
        rest = re.sub(r"^[\d.]+ |练习 (?=\d)|笔记本 (?=\d)", "", i18n.CODE_SPAN.sub("`c`", text))
        for pattern, why in ((rf"[{CJK}] +[A-Za-z0-9$`{{]|[A-Za-z0-9$`}}] +[{CJK}]", "space"),
                             (rf"[{CJK}][,;:!?][{CJK}]", "half-width punctuation")):
            found += [f"{why}: {text[:60]}" for _ in re.finditer(pattern, rest)]
    assert found == []


def test_style_check_catches_a_space_and_a_half_width_comma(tmp_path):
    po = polib.POFile()
    po.append(polib.POEntry(msgid="The gradient, then the loss.", msgstr="梯度 w,然后是损失。",
                            comment="markdown"))
    po.save(str(tmp_path / "bad.po"))
    with pytest.raises(AssertionError, match="space"):
        test_style_of_the_translation((None, tmp_path / "bad.po", None, None))


def test_no_missing_glyph_in_any_stored_output():
    """Stored outputs hold matplotlib's warnings; neither edition has a missing glyph."""
    hits = []
    for path in [*NOTEBOOKS, *sorted(i18n.OUT.glob("*.ipynb"))]:
        for cell in nbformat.read(path, as_version=4).cells:
            for output in cell.get("outputs", []):
                text = output.get("text", "") + str(output.get("data", {}).get("text/plain", ""))
                if re.search(r"missing from font|does not have a glyph|findfont", text):
                    hits.append(f"{path.name} {cell.get('id')}")
    assert hits == []


def test_the_course_fonts_draw_every_translated_string():
    """Every character a translated code string can print or draw is in the CJK subset or in
    DejaVu Sans, its fallback (markdown is drawn by the browser, not by matplotlib)."""
    from matplotlib import font_manager
    fonts = [i18n.FONT, font_manager.findfont("DejaVu Sans")]
    drawable = set().union(*(TTFont(path, fontNumber=0).getBestCmap() for path in fonts))
    strings = {ch for path in [*map(i18n.catalogue, NOTEBOOKS), COURSE_UTILS_PO] if path.exists()
               for e in polib.pofile(str(path)) if e.comment in ("string", "f-string", "")
               for ch in i18n.FIELD.sub("", e.msgstr)}
    assert sorted(ch for ch in strings if ord(ch) not in drawable and ch.isprintable()) == []


def test_chinese_figure_draws_without_warning_and_svg_is_deterministic():
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from course_utils.plotting import use_course_style

    def svg() -> bytes:
        fig, ax = plt.subplots()
        ax.plot([0, 1], [0, -1], label="第二个特征 $x_2$")
        ax.set(title="损失随迭代周期下降（学习率−0.03）", xlabel="迭代周期", ylabel="损失")
        ax.legend()
        buffer = io.BytesIO()
        fig.savefig(buffer, format="svg")
        plt.close(fig)
        return buffer.getvalue()

    try:
        use_course_style(language="zh")
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # "Glyph ... missing from font(s)" is a UserWarning
            first, second = svg(), svg()
        assert first == second
        # A character the font lacks does warn: the check above can fail.
        with pytest.warns(UserWarning, match="missing from font"):
            fig, ax = plt.subplots()
            ax.set_title("齉")  # GB 2312 level 2: not in the subset
            fig.canvas.draw()
        plt.close("all")
    finally:
        use_course_style()


@pytest.mark.parametrize("bad", ["cn", "", None, "EN"])
def test_an_unknown_language_is_a_clear_error(bad):
    from course_utils.plotting import use_course_style
    with pytest.raises(ValueError, match="language"):
        use_course_style(language=bad)


# ---- the checks fail on a stale, missing or broken translation ---------------------------------

@pytest.fixture
def sandbox(tmp_path):
    """Notebook 04 and its catalogue, copied, to edit."""
    english = tmp_path / NOTEBOOKS[3].name
    shutil.copy(NOTEBOOKS[3], english)
    catalogue = tmp_path / "04.po"
    shutil.copy(i18n.catalogue(NOTEBOOKS[3]), catalogue)
    return english, catalogue


def _edit_first_paragraph(english: Path, change) -> tuple[str, str]:
    nb = nbformat.read(english, as_version=4)
    cell = next(c for c in nb.cells if c.cell_type == "markdown" and len(c.source) > 200)
    old = cell.source
    cell.source = change(old)
    nbformat.write(nb, english)
    return cell.get("id"), old


def test_a_changed_english_paragraph_is_stale_and_shows_in_english(sandbox):
    english, catalogue = sandbox
    po = polib.pofile(str(catalogue))
    for entry in po:  # every message translated (the English as a stand-in)
        entry.msgstr = entry.msgstr or entry.msgid
    po.save(str(catalogue))
    cell_id, _ = _edit_first_paragraph(english, lambda s: s.replace(" the ", " THE ", 1))
    before = i18n.problems(catalogue, [e.msgid for e in i18n.extract(english)])
    assert [f for f in before if "not in the catalogue" in f]  # `make i18n` not run yet
    i18n.update(english, catalogue)
    found = i18n.problems(catalogue, [e.msgid for e in i18n.extract(english)])
    assert len(found) == 1 and "stale (fuzzy)" in found[0]
    built = next(c for c in i18n.build(english, catalogue).cells if c.get("id") == cell_id)
    assert "THE" in built.source  # the English, not the translation of the old English


def test_a_new_english_paragraph_is_untranslated(sandbox):
    english, catalogue = sandbox
    _edit_first_paragraph(english, lambda s: s + "\n\nA paragraph nobody has translated yet.")
    i18n.update(english, catalogue)
    found = i18n.problems(catalogue, [e.msgid for e in i18n.extract(english)])
    assert [f for f in found if "nobody" in f and "untranslated" in f]


@pytest.mark.parametrize("kind, wanted, break_it", [
    ("math", "markdown", lambda t: t.replace("$", "", 2) if "$" in t else None),
    ("code span", "markdown", lambda t: t.replace("`", "", 2) if "`" in t else None),
    ("field", "f-string", lambda t: re.sub(r"\{[^{}]*\}", "{x}", t, count=1)
     if re.search(r"\{[^x]", t) else None),
])
def test_a_translation_that_changes_math_code_or_fields_is_caught(sandbox, kind, wanted, break_it):
    english, catalogue = sandbox
    po = polib.pofile(str(catalogue))
    entry = next(e for e in po if e.comment == wanted and break_it(e.msgid) is not None)
    entry.msgstr = entry.msgid  # a faithful "translation" first: no problem
    entry.flags = []
    po.save(str(catalogue))
    mine = lambda: [f for f in i18n.problems(catalogue) if repr(entry.msgid[:60]) in f]  # noqa: E731
    assert mine() == []
    entry.msgstr = break_it(entry.msgid)
    po.save(str(catalogue))
    assert len(mine()) == 1 and f"{kind}s differ" in mine()[0]


def test_translated_code_that_does_not_compile_is_caught(sandbox):
    english, catalogue = sandbox
    po = polib.pofile(str(catalogue))
    entry = next(e for e in po if e.comment == "f-string")
    entry.msgstr = entry.msgid + '"'  # closes the literal early
    po.save(str(catalogue))
    assert i18n.compile_errors(i18n.build(english, catalogue))


def test_a_stored_chinese_notebook_that_lags_its_catalogue_is_caught(sandbox):
    english, catalogue = sandbox
    po = polib.pofile(str(catalogue))
    entry = next(e for e in po if e.comment == "markdown")
    entry.msgstr = (entry.msgstr or entry.msgid) + "（新增）"
    po.save(str(catalogue))
    before, after = i18n.build(english), i18n.build(english, catalogue)
    assert [c.source for c in before.cells] != [c.source for c in after.cells]


def test_an_untranslated_catalogue_builds_the_english_notebook(tmp_path):
    """With no translation, the build gives the English text back. mdpo rewraps lines,
    renumbers ordered lists and makes loose lists tight (items without <p>): it renders the same
    but for the space between list items."""
    empty = polib.POFile()
    english = nbformat.read(NOTEBOOKS[0], as_version=4)
    path = tmp_path / "empty.po"
    empty.save(str(path))
    built = i18n.build(NOTEBOOKS[0], path)
    md = MarkdownIt("commonmark").enable("table").use(dollarmath_plugin)
    def normal(markdown: str) -> str:
        html = re.sub(r"\s+", " ", md.render(markdown)).replace("> <", "><")
        return re.sub(r"<li><p>(.*?)</p>", r"<li>\1", html)
    for en, zh in zip(english.cells, built.cells):
        if en.cell_type == "markdown":
            assert normal(zh.source) == normal(en.source), en.get("id")
        elif en.cell_type == "code":
            assert zh.source == en.source.replace(
                "use_course_style()", 'use_course_style(language="zh")')


def test_code_messages_are_what_a_reader_sees():
    source = '''# Train for a few epochs
# on the synthetic data
x = {"loss": 1}  # not shown: a dict key
ax.set_xlabel("epoch")
print(f"epoch {e + 1}, "
      f"loss {l:.3f}")
print(f"{'method':<8} loss")
plt.plot(x, y, "o-", label="train")
def f():
    """Docstring here."""
    return x["loss"]
'''
    found = [(m["kind"], m["msgid"]) for m in i18n.code_messages(source)]
    assert found == [("comment", "Train for a few epochs on the synthetic data"),
                     ("comment", "not shown: a dict key"),
                     ("string", "epoch"),
                     ("f-string", "epoch {e + 1}, loss {l:.3f}"),
                     ("f-string", "{'method':<8} loss"),  # one message on every Python
                     ("string", "train"),
                     ("string", "Docstring here.")]
    table = {"Train for a few epochs on the synthetic data": "在合成数据集上训练几个迭代周期",
             "epoch {e + 1}, loss {l:.3f}": "第{e + 1}轮，损失{l:.3f}", "train": "训练"}
    out = i18n.translate_code(source, table.get)
    ast.parse(out)
    assert out.splitlines()[0] == "# 在合成数据集上训练几个迭代周期"
    assert 'print(f"第{e + 1}轮，损失{l:.3f}")' in out and 'label="训练"' in out
    assert '"o-"' in out and '{"loss": 1}' in out


def test_table_labels_are_messages_and_keys_follow_them():
    """A table's labels are messages, and each label's other literals in the notebook (a key in
    set_index, a lookup) take the same translation, so the translated code still runs."""
    source = '''rows = []
for n in (1, 2):
    rows.append({"method": "closed form", "n": n})
table = pd.DataFrame(rows).set_index("method")
label = "run" + (" (full batch)" if n == 2 else "")
plt.plot(x, y, label=label)
print(table.loc["closed form"])
print(f"{'method':<12} | done")
'''
    found = {m["msgid"] for m in i18n.code_messages(source)}
    assert {"method", "closed form", "run", " (full batch)", "{'method':<12} | done"} <= found
    table = {"method": "方法", "closed form": "解析解", "{'method':<12} | done": "{'方法':<10} | 完成"}
    out = i18n.translate_code(source, table.get, frozenset({"method", "closed form"}))
    assert 'set_index("方法")' in out and 'table.loc["解析解"]' in out and '"方法": "解析解"' in out
    assert "{'方法':<10} | 完成" in out
    # A header field may change its text and width, no other field may change.
    assert i18n.fields("{'method':<12} {x:.3f}") == i18n.fields("{'方法':<10} {x:.3f}")
    assert i18n.fields("{'method':<12} {x:.3f}") != i18n.fields("{'方法':>10} {x:.3f}")
    assert i18n.fields("{x:.3f}") != i18n.fields("{x:.2f}")
