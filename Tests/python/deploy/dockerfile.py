"""A small reader for the repository's Dockerfile: stages and their instructions."""

from __future__ import annotations

import json
import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path

from helmchart import REPO_ROOT

DOCKERFILE = REPO_ROOT / "Dockerfile"


@dataclass
class Instruction:
    keyword: str
    arguments: str
    line: int


@dataclass
class Stage:
    base: str
    name: str | None
    instructions: list[Instruction] = field(default_factory=list)

    def all(self, keyword: str) -> list[Instruction]:
        return [i for i in self.instructions if i.keyword == keyword]

    def apt_installs(self) -> set[str]:
        """Packages named by `apt-get install` in this stage's RUN instructions."""
        packages: set[str] = set()
        for run in self.all("RUN"):
            for command in re.split(r"&&|;", run.arguments):
                words = shlex.split(command)
                if words[:2] == ["apt-get", "install"]:
                    packages |= {w for w in words[2:] if not w.startswith("-")}
        return packages


def parse(path: Path = DOCKERFILE) -> list[Stage]:
    stages: list[Stage] = []
    pending = ""
    start = 0
    for number, raw in enumerate(path.read_text().splitlines(), start=1):
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if not pending:
            start = number
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        pending += line
        keyword, _, arguments = pending.partition(" ")
        instruction = Instruction(keyword.upper(), arguments.strip(), start)
        pending = ""
        if instruction.keyword == "FROM":
            words = instruction.arguments.split()
            name = words[2] if len(words) == 3 and words[1].upper() == "AS" else None
            stages.append(Stage(base=words[0], name=name))
        elif stages:
            stages[-1].instructions.append(instruction)
    return stages


def exec_form(instruction: Instruction) -> list[str]:
    value = json.loads(instruction.arguments)
    assert isinstance(value, list), f"line {instruction.line}: not the exec (JSON) form"
    return value


def swift_build_command(stage: Stage) -> list[str]:
    """The `swift build` command of the build stage, as words."""
    for run in stage.all("RUN"):
        for command in run.arguments.split("&&"):
            words = shlex.split(command)
            if words[:2] == ["swift", "build"] and "--show-bin-path" not in words:
                return words
    raise AssertionError("the build stage has no `swift build` command")
