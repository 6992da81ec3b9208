"""The documentation agrees with the project: every relative link in README.md and docs/*.md
resolves to a file (and a `#anchor` to one of its headings, slugged as GitHub does), every
`make <target>` quoted names a Makefile target, every `s3once <command> --option` quoted exists
in the click app, and every project path in backticks exists. docs/layout.md names every module.

Commands are read from inline code and from shell and plain code blocks (a `$ ` prompt, `\\`
continuations and `# comments` understood); paths from inline code and shell blocks. A path may
hold placeholders (`<stage>`) or globs (`*`): it must then match at least one file.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import click
import pytest

from s3once.cli import main as s3once_main

ROOT = Path(__file__).resolve().parents[3]
PAGES = sorted([ROOT / "README.md", *(ROOT / "docs").glob("*.md")])
PROJECT_PATH = re.compile(r"^(?:chalicelib|s3once|tests|docs|infra|scripts|benchmarks|samples)/")
# Files a page asks its reader to create: they must not exist, or following it would overwrite.
CREATED_BY_THE_READER = {"chalicelib/processors/line_count.py", "tests/e2e/test_line_count.py"}
SHELL_BLOCKS = {"", "sh", "bash", "shell", "console"}
FENCE = re.compile(r"^(```|~~~)\s*([\w-]*)\s*$")
CODE_SPAN = re.compile(r"`([^`\n]+)`")
LINK = re.compile(r"!?\[[^\]\n]*\]\(([^()\s]+)(?:\s+\"[^\"]*\")?\)")
HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")
SEGMENT_SEPARATOR = re.compile(r"\s(?:&&|\|\||;|\|)\s")
COMMENT = re.compile(r"(?:^|\s)#.*$")
ENV_ASSIGNMENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")
MAKE_TARGET = re.compile(r"^([A-Za-z0-9_.-]+):(?!=)", re.MULTILINE)


@dataclass(frozen=True)
class Page:
    path: Path
    prose: list[str]  # lines outside code blocks
    blocks: list[tuple[str, list[str]]]  # (language, lines) of each code block

    @classmethod
    def read(cls, path: Path, text: str | None = None) -> Page:
        prose: list[str] = []
        blocks: list[tuple[str, list[str]]] = []
        block: list[str] | None = None
        source = path.read_text(encoding="utf-8") if text is None else text
        for line in source.splitlines():
            fence = FENCE.match(line)
            if fence and block is None:
                block = []
                blocks.append((fence[2], block))
            elif fence and not fence[2]:
                block = None
            elif block is not None:
                block.append(line)
            else:
                prose.append(line)
        return cls(path, prose, blocks)

    @property
    def name(self) -> str:
        return self.path.name

    def paragraphs(self) -> Iterator[str]:
        """The prose, a paragraph a line: inline code and links may wrap across lines."""
        paragraph: list[str] = []
        for line in [*self.prose, ""]:
            if line.strip():
                paragraph.append(line.strip())
            elif paragraph:
                yield " ".join(paragraph)
                paragraph = []

    def spans(self) -> Iterator[str]:
        for paragraph in self.paragraphs():
            yield from CODE_SPAN.findall(paragraph)

    def links(self) -> Iterator[str]:
        for paragraph in self.paragraphs():
            yield from LINK.findall(CODE_SPAN.sub("", paragraph))

    def shell_lines(self) -> Iterator[tuple[str, str]]:
        """(language, logical line) of every code block that may hold commands."""
        for language, lines in self.blocks:
            if language in SHELL_BLOCKS:
                yield from ((language, line) for line in joined(lines))

    def commands(self) -> Iterator[str]:
        yield from self.spans()
        for language, line in self.shell_lines():
            spans = CODE_SPAN.findall(line) if not language else []  # a diagram's quotes
            yield from spans or [line]

    def paths(self) -> Iterator[str]:
        units = [*self.spans(), *(line for lang, line in self.shell_lines() if lang)]
        for unit in units:
            for token in COMMENT.sub("", unit).split():
                token = token.strip("[](),;:'\"")
                if PROJECT_PATH.match(token):
                    yield token


def joined(lines: list[str]) -> Iterator[str]:
    """Logical lines: a line ending in `\\` continues on the next."""
    pending = ""
    for line in lines:
        if line.endswith("\\"):
            pending += line[:-1] + " "
        else:
            yield pending + line
            pending = ""
    if pending:
        yield pending


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: its text lowercased, punctuation dropped, spaces dashed."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading).replace("`", "")
    text = re.sub(r"[^\w\- ]", "", text.lower())
    return text.replace(" ", "-")


def anchors(page: Page) -> set[str]:
    found: set[str] = set()
    seen: dict[str, int] = {}
    for line in page.prose:
        heading = HEADING.match(line)
        if heading:
            base = slug(heading[2])
            count = seen.get(base, 0)
            seen[base] = count + 1
            found.add(base if count == 0 else f"{base}-{count}")
    return found


def broken_links(page: Page) -> list[str]:
    problems = []
    for target in page.links():
        if re.match(r"^[a-z][a-z0-9+.-]*:", target):  # https:, mailto: ...
            continue
        file_part, _, anchor = target.partition("#")
        if not file_part:
            if anchor not in anchors(page):
                problems.append(f"{page.name}: link {target} names no heading of {page.name}")
            continue
        linked = (page.path.parent / file_part).resolve()
        if not linked.exists():
            problems.append(f"{page.name}: link {target} names no file")
        elif anchor and linked.suffix == ".md" and anchor not in anchors(Page.read(linked)):
            problems.append(f"{page.name}: link {target} names no heading of {linked.name}")
    return problems


def makefile_targets(makefile: Path = ROOT / "Makefile") -> set[str]:
    return set(MAKE_TARGET.findall(makefile.read_text(encoding="utf-8")))


def words(segment: str) -> list[str]:
    try:
        return shlex.split(segment)
    except ValueError:  # an unbalanced quote in prose: whitespace will do
        return segment.split()


def option_names(command: click.Command) -> dict[str, click.Parameter]:
    names: dict[str, click.Parameter] = {"--help": click.Option(["--help"], is_flag=True)}
    for param in command.params:
        names.update((name, param) for name in [*param.opts, *param.secondary_opts])
    return names


def takes_value(param: click.Parameter) -> bool:
    return not (isinstance(param, click.Option) and (param.is_flag or param.count))


def s3once_problems(args: list[str], group: click.Group = s3once_main) -> list[str]:
    """What is wrong with `s3once ARGS`: an unknown command, or an option it does not have."""
    problems: list[str] = []
    command: click.Command = group
    options = option_names(group)
    skip_value = False
    for raw in args:
        word = raw.strip("[]")
        if skip_value:
            skip_value = False
        elif word.startswith("--"):
            name = word.split("=", 1)[0]
            if name not in options:
                problems.append(f"s3once {' '.join(args)}: {command.name} has no option {name}")
            else:
                skip_value = takes_value(options[name]) and "=" not in word
        elif command is group and word and not word.startswith(("<", "-", ".")):
            found = group.get_command(click.Context(group), word)
            if found is None:
                problems.append(f"s3once {' '.join(args)}: no command {word!r}")
                break
            command, options = found, option_names(found)
    return problems


def command_problems(unit: str, targets: set[str]) -> list[str]:
    problems = []
    for segment in SEGMENT_SEPARATOR.split(COMMENT.sub("", unit)):
        tokens = words(segment.strip().removeprefix("$ "))
        while tokens and ENV_ASSIGNMENT.match(tokens[0]):
            tokens.pop(0)
        if tokens[:2] in (["python", "-m"], [".venv/bin/python", "-m"]) and tokens[2:3] == [
            "s3once"
        ]:
            tokens = tokens[2:]
        if not tokens:
            continue
        if tokens[0] == "make":
            unknown = [
                word
                for word in tokens[1:]
                if "=" not in word and not word.startswith(("-", "<")) and word not in targets
            ]
            problems += [f"make {word}: no such target in the Makefile" for word in unknown]
        elif tokens[0] in ("s3once", ".venv/bin/s3once"):
            problems += s3once_problems(tokens[1:])
    return problems


def missing_paths(page: Page, root: Path = ROOT) -> list[str]:
    problems = []
    for path in sorted(set(page.paths())):
        pattern = re.sub(r"<[^>]*>", "*", path).rstrip("/")
        if path in CREATED_BY_THE_READER:
            if (root / path).exists():
                problems.append(f"{page.name}: asks to create {path}, which exists already")
        elif not any(root.glob(pattern)):
            problems.append(f"{page.name}: `{path}` is not in the project")
    return problems


def page_problems(page: Page) -> list[str]:
    targets = makefile_targets()
    problems = broken_links(page) + missing_paths(page)
    for unit in page.commands():
        problems += [f"{page.name}: {problem}" for problem in command_problems(unit, targets)]
    return problems


@pytest.mark.parametrize("path", PAGES, ids=lambda path: path.name)
def test_every_link_command_and_path_of_the_page_exists(path: Path) -> None:
    assert page_problems(Page.read(path)) == []


def test_the_readme_links_every_page_of_the_docs() -> None:
    readme = Page.read(ROOT / "README.md")
    linked = {(ROOT / target.partition("#")[0]).resolve() for target in readme.links()}
    assert [page.name for page in PAGES if page.resolve() not in linked] == ["README.md"]


def test_the_layout_page_names_every_module_of_the_function_and_the_tool() -> None:
    layout = set(Page.read(ROOT / "docs" / "layout.md").spans())
    modules = [
        path.relative_to(ROOT).as_posix()
        for folder in ("chalicelib", "s3once")
        for path in sorted((ROOT / folder).rglob("*.py"))
        if path.name != "__init__.py" or path.parent.name == "processors"
    ]
    assert [module for module in modules if module not in layout] == []


def test_the_checker_flags_a_broken_link_a_missing_anchor_and_a_missing_path(
    tmp_path: Path,
) -> None:
    (tmp_path / "other.md").write_text("# Other\n\n## A `code` heading, too\n", encoding="utf-8")
    text = (
        "# Page\n\n[fine](other.md#a-code-heading-too) [gone](missing.md)"
        " [no heading](other.md#nowhere) [here](#page) [self](#absent)\n\n"
        "See `chalicelib/core/nowhere.py` and `chalicelib/core/keys.py`, or the\n"
        "`chalicelib/core/wrapped.py` of the next line.\n"
    )
    page = Page.read(tmp_path / "page.md", text)
    assert broken_links(page) == [
        "page.md: link missing.md names no file",
        "page.md: link other.md#nowhere names no heading of other.md",
        "page.md: link #absent names no heading of page.md",
    ]
    assert missing_paths(page) == [
        "page.md: `chalicelib/core/nowhere.py` is not in the project",
        "page.md: `chalicelib/core/wrapped.py` is not in the project",
    ]


def test_the_checker_flags_an_unknown_make_target_command_or_option() -> None:
    targets = makefile_targets()
    assert command_problems("make run FILES=<dir> && make publish", targets) == [
        "make publish: no such target in the Makefile"
    ]
    assert command_problems("$ s3once --stage prod statuz", targets) == [
        "s3once --stage prod statuz: no command 'statuz'"
    ]
    assert command_problems("LOCK_TABLE_NAME=t s3once status --exactly --limit 5", targets) == [
        "s3once status --exactly --limit 5: status has no option --exactly"
    ]
    assert command_problems("s3once status --stage prod", targets) == [
        "s3once status --stage prod: status has no option --stage"
    ]


def test_the_checker_reads_wrapped_spans_and_blocks_with_continuations_and_comments() -> None:
    text = (
        "Run `s3once show s3://b/k --json`, never `make\nnothing`.\n\n```sh\n"
        "s3once backfill s3://b/ --via batch-operations \\\n    --role-arn arn [--nope x]\n"
        "make bench   # make nothing-here\n```\n\n```python\ns3once = 'make nonsense'\n```\n"
    )
    page = Page.read(ROOT / "page.md", text)
    targets = makefile_targets()
    assert [p for unit in page.commands() for p in command_problems(unit, targets)] == [
        "make nothing: no such target in the Makefile",
        "s3once backfill s3://b/ --via batch-operations --role-arn arn [--nope x]:"
        " backfill has no option --nope",
    ]


def test_make_bench_keeps_the_hand_written_part_of_the_benchmarks_page(tmp_path: Path) -> None:
    from benchmarks.__main__ import GENERATED_MARK, kept_preface

    page = (ROOT / "docs" / "benchmarks.md").read_text(encoding="utf-8")
    assert GENERATED_MARK in page
    written = tmp_path / "benchmarks.md"
    written.write_text(f"# B\n\nBy hand.\n{GENERATED_MARK}\n\n## Old run\n", encoding="utf-8")
    assert kept_preface(written) == "# B\n\nBy hand.\n"
    assert kept_preface(tmp_path / "absent.md") == "# Benchmarks\n\n"
