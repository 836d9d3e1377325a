"""course_utils in Chinese: its own catalogue ``course_utils/locale/zh.po``, used when the language
is "zh" (``use_course_style(language="zh")`` in the Chinese notebooks), and English unchanged.

1. The catalogue: every message marked ``_("...")`` or ``N_("...")`` in course_utils (found here
   with ``ast``, independently of xgettext) and every exercise title, hint and known slip is in
   it, translated and current (not fuzzy), with the ``{fields}`` of its English; and it holds no
   message the code no longer has. A catalogue missing one translation fails (the mutation test).
2. What a student sees: ``check()``'s verdict, progress line and the reasons a wrong answer is
   wrong, the graph's title and axis label and the sliders' line, in Chinese with no English
   sentence left; ``set_language("en")`` restores the English byte for byte; the grader's
   ``assert_solved`` stays in English.
Every test leaves the language at "en".
"""

import ast
import math
import re
import string
import warnings
from pathlib import Path

import matplotlib
import polib
import pytest
import torch

from course_utils import checks, exercises, i18n
from course_utils.checks import assert_solved, check, compare, verdict
from course_utils.exercises import EXERCISES, reference
from course_utils.plotting import use_course_style

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "course_utils"
CATALOGUE = PACKAGE / "locale" / "zh.po"
MARKERS = {"_", "N_"}
# Three English words in a row (two letters or more each): a sentence left untranslated. Code
# names (exercise_inputs, nn.MSELoss, requires_grad=True) and formulas (x·θ − y) are not.
ENGLISH = re.compile(r"(?<![\w.])[A-Za-z]{2,}(?: [A-Za-z]{2,}){2,}(?![\w(])")


@pytest.fixture(autouse=True)
def english_afterwards():
    """Every test starts and ends in English, and with a fresh progress count."""
    i18n.set_language("en")
    checks._solved.clear()
    yield
    i18n.set_language("en")
    checks._solved.clear()


def marked_messages() -> dict[str, str]:
    """Every string literal passed to ``_()`` or ``N_()`` in course_utils: message -> where."""
    found = {}
    for path in sorted(PACKAGE.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (isinstance(node, ast.Call) and getattr(node.func, "id", None) in MARKERS
                    and node.args and isinstance(node.args[0], ast.Constant)
                    and isinstance(node.args[0].value, str)):
                found.setdefault(node.args[0].value, f"{path.name}:{node.lineno}")
    return found


def shown_exercise_texts() -> set[str]:
    """What checks shows of the registry: every title, hint and known slip."""
    texts = set()
    for key, ex in EXERCISES.items():
        texts |= {ex.title, *([ex.hint] if ex.hint else []), *exercises.mistakes(key)}
    return texts


def fields(text: str) -> list[str]:
    """The ``{field}`` and ``{field:spec}`` replacement fields of a str.format template."""
    return sorted(f"{{{name}{':' + spec if spec else ''}}}"
                  for _, name, spec, _ in string.Formatter().parse(text) if name is not None)


def catalogue_problems(path: Path, wanted: set[str]) -> list[str]:
    """What is wrong with the catalogue at ``path`` for the messages ``wanted``."""
    po = polib.pofile(str(path))
    entries = {e.msgid: e for e in po if not e.obsolete}
    problems = [f"missing: {m!r}" for m in sorted(wanted - set(entries))]
    problems += [f"not in course_utils any more: {m!r}" for m in sorted(set(entries) - wanted)]
    for msgid, entry in entries.items():
        if not entry.msgstr:
            problems.append(f"untranslated: {msgid!r}")
        elif entry.fuzzy:
            problems.append(f"fuzzy (its English changed): {msgid!r}")
        elif fields(entry.msgstr) != fields(msgid):
            problems.append(f"fields {fields(entry.msgstr)} instead of {fields(msgid)}: {msgid!r}")
    if po.metadata.get("Language") != "zh":
        problems.append(f"header Language: {po.metadata.get('Language')!r}, not 'zh'")
    return problems


def english_left(text: str) -> list[str]:
    return ENGLISH.findall(text)


# ------------------------------------------------------------------------------ 1. catalogue

def test_every_marked_message_and_exercise_text_is_in_the_catalogue_translated():
    marked = marked_messages()
    assert len(marked) > 150
    assert shown_exercise_texts() <= set(marked), "an exercise text not marked with N_()"
    assert catalogue_problems(CATALOGUE, set(marked)) == []


def test_no_translation_leaves_an_english_sentence_or_breaks_the_style():
    for entry in polib.pofile(str(CATALOGUE)):
        text = entry.msgstr
        assert english_left(text) == [], (entry.msgid, text)
        # half-width punctuation in Chinese prose (code such as 到.grad is fine)
        assert not re.search(r"[\u3400-\u9fff][,;:?!]|[\u3400-\u9fff]\.(\s|$)"
                             r"|[,;:?!] ?[\u3400-\u9fff]", text), text
        assert not re.search(r"[\u3400-\u9fff] [\w{]|[\w}] [\u3400-\u9fff]", text) or \
            entry.msgid == "{mark} Exercise {exercise} ({title}): {message}", text  # 练习 03.1
        assert "您" not in text, text


def test_a_catalogue_missing_one_translation_fails(tmp_path, monkeypatch):
    """The mutation: blank one translation; the catalogue check and the output both show it."""
    po = polib.pofile(str(CATALOGUE))
    po.find("the sign is wrong").msgstr = ""
    po.find("{problem}. Hint: {hint}").msgstr = "{problem}。提示"  # and one field lost
    mutated = tmp_path / "zh.po"
    po.save(str(mutated))
    assert catalogue_problems(mutated, set(marked_messages())) == [
        "untranslated: 'the sign is wrong'",
        "fields ['{problem}'] instead of ['{hint}', '{problem}']: '{problem}. Hint: {hint}'"]

    monkeypatch.setattr(i18n, "_catalogue", lambda language: {
        e.msgid: e.msgstr for e in polib.pofile(str(mutated)) if e.msgstr and not e.fuzzy})
    i18n.set_language("zh")
    assert english_left(compare(-1.0, 1.0).message) == ["the sign is wrong"]


# ------------------------------------------------------------------- 2. what a student sees

def test_check_prints_the_verdict_and_the_progress_in_chinese(capsys):
    i18n.set_language("zh")
    check("03.1", reference("03.1"))
    check("03.2", None)
    check("04.1", torch.zeros(2, 1))
    out = capsys.readouterr().out.splitlines()
    assert out[:4] == ["✓ 练习 03.1（绝对误差损失）：正确", "笔记本03：已完成1/4道练习",
                       "✗ 练习 03.2（为什么在梯度下降之前要标准化）：还没有答案",
                       "笔记本03：已完成1/4道练习"]
    assert out[4].startswith("✗ 练习 04.1（手算梯度）：") and "。提示：" in out[4]
    assert out[5] == "笔记本04：已完成0/4道练习"
    assert all(english_left(line) == [] for line in out), out


# A wrong answer of every kind compare() describes (the English of each is in test_checks.py).
WRONG = [(None, 1.0), (True, 1.0), ("3", 3.0), (1 + 2j, 1.0), (object(), 1.0),
         (torch.tensor([True, False]), torch.tensor([1.0, 0.0])),
         (torch.tensor([1 + 1j]), torch.tensor([1.0])), ([[1, 2], [3]], torch.ones(2, 2)),
         (3, "reverse"), ("forward", "reverse"),
         (torch.tensor([1.0, 2.0]), torch.tensor([[1.0], [2.0]])),
         (torch.arange(6.0).reshape(3, 2), torch.arange(6.0).reshape(3, 2).T),
         (torch.ones(3), 1.0), (torch.tensor([1.0, math.nan]), torch.tensor([1.0, 2.0])),
         (math.inf, 1.0), (1.05, 1.0), (0.6, 1.0), (5.0, 1.0), (1000.0, 1.0), (-12.0, -1.0),
         (-1.0, 1.0), (-3.0, 1.0), (0, 1.0), (2.0, 0.0), (-2.0, 0.0),
         (torch.tensor([2.0, 4.0]), torch.tensor([1.0, 2.0])),
         (torch.tensor([-3.0, -6.0]), torch.tensor([1.0, 2.0])),
         (torch.tensor([-1.0, -2.0]), torch.tensor([1.0, 2.0])),
         (torch.tensor([2.0, 1.0]), torch.tensor([1.0, 2.0])),
         (torch.tensor([1.0, -0.5, 3.3]), torch.tensor([1.0, 2.0, 3.0])),
         (torch.tensor([1.0, 2.0, 30.0]), torch.tensor([1.0, 2.0, 3.0])),
         (torch.tensor([[1.0, 2.0], [3.0, 4.1]]), torch.tensor([[1.0, 2.0], [3.0, 4.0]])),
         (torch.tensor(1.001, dtype=torch.float16), 1.0)]


@pytest.mark.parametrize("answer, ref", WRONG, ids=lambda v: type(v).__name__)
def test_every_kind_of_wrong_answer_is_told_in_chinese(answer, ref):
    english = compare(answer, ref, hint="mind the 1/n").message
    i18n.set_language("zh")
    chinese = compare(answer, ref, hint="mind the 1/n").message
    assert english_left(chinese.replace("mind the 1/n", "")) == [], chinese
    assert re.search(r"[\u3400-\u9fff]", chinese), chinese
    i18n.set_language("en")
    assert compare(answer, ref, hint="mind the 1/n").message == english


@pytest.mark.parametrize("exercise", list(EXERCISES))
def test_each_exercise_speaks_chinese_title_hint_slips_and_process(exercise, capsys):
    ex = EXERCISES[exercise]
    ref = reference(exercise)
    wrong = ref * 1.5 if not isinstance(ref, list) else [v * 1.5 for v in ref]
    answers = [ref, None, wrong, *exercises.mistakes(exercise).values()]
    i18n.set_language("en")
    english = [verdict(exercise, a).message for a in answers]
    i18n.set_language("zh")
    chinese = [verdict(exercise, a).message for a in answers]
    check(exercise, wrong)
    printed = capsys.readouterr().out
    assert f"练习 {exercise}（{i18n._(ex.title)}）：" in printed and i18n._(ex.title) != ex.title
    for text in [*chinese, printed]:
        assert english_left(text) == [], text
    i18n.set_language("en")
    assert [verdict(exercise, a).message for a in answers] == english


def test_the_process_checks_speak_chinese():
    i18n.set_language("zh")
    exercises._counts_at_start.pop("02.1", None)
    assert verdict("02.1", reference("02.1")).message == \
        '请先在练习单元格中运行exercise_inputs("02.1")'
    exercises.exercise_inputs("02.1")
    assert verdict("02.1", reference("02.1")).message.startswith("数值是对的，但自exercise_inputs")
    X, y, w, b, sizes = exercises.exercise_inputs("06.4")
    (((X @ w + b - y) ** 2).mean() / 2).backward()
    assert "w在1次反向传播中收到了梯度" in verdict("06.4", w.grad).message
    right = reference("06.6")
    for answer in (right.tolist(), right.clone(),
                   torch.zeros_like(right, requires_grad=True) + right):
        message = verdict("06.6", answer).message
        assert message.startswith("数值是对的") and english_left(message) == [], message


def test_english_is_restored_byte_for_byte(capsys):
    def run() -> str:
        checks._solved.clear()
        check("04.3", reference("04.3"))
        check("04.1", torch.zeros(2, 1))
        check("01.1", 1.0)
        return capsys.readouterr().out
    english = run()
    assert english.startswith("✓ Exercise 04.3 (the noise floor): correct\n"
                              "Notebook 04: 1 of 4 exercises solved\n"
                              "✗ Exercise 04.1 (the gradient by hand): ")
    i18n.set_language("zh")
    assert run() != english
    i18n.set_language("en")
    assert run() == english


def test_the_grader_reads_english():
    i18n.set_language("zh")
    with pytest.raises(AssertionError, match=r"^Exercise 04.3: no answer yet$"):
        assert_solved("04.3", ...)
    assert i18n.language() == "zh"  # and the student's language is left as it was


def test_the_graph_and_the_sliders_speak_chinese():
    from ipywidgets import FloatSlider

    from course_utils.graph import build_graph, draw_graph
    from course_utils.widgets import sliders_text

    x = torch.tensor(2.0, requires_grad=True)
    sliders = {"lr": FloatSlider(value=0.03, description="lr"),
               "delta": FloatSlider(value=1.0, description="Huber δ")}
    english = (build_graph(x * x).nodes[0]["label"], sliders_text(sliders))
    with matplotlib.rc_context(), warnings.catch_warnings():
        warnings.simplefilter("error")  # a glyph missing from the fonts would warn
        use_course_style(language="zh")  # as the Chinese notebooks do: the CJK font, and zh
        fig = draw_graph(x * x)
        fig.canvas.draw()
    ax = fig.axes[0]
    assert (ax.get_title(), ax.get_xlabel()) == ("计算图", "求值顺序：输入→输出")
    assert "标量" in build_graph(x * x).nodes[0]["label"]
    assert sliders_text(sliders) == "滑块（在Jupyter中运行笔记本时可以拖动）：lr = 0.03，Huber δ = 1"
    i18n.set_language("en")
    assert (build_graph(x * x).nodes[0]["label"], sliders_text(sliders)) == english
    assert english[1] == "Sliders (they move when the notebook runs in Jupyter): lr = 0.03, " \
                         "Huber δ = 1"
