"""A small reader for the repository's Dockerfile: stages and their instructions."""

from __future__ import annotations

import json
import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

REPO_ROOT = Path(__file__).resolve().parents[3]
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

    def run_commands(self) -> list[str]:
        """The shell commands of this stage's RUN instructions (shell form), in order."""
        commands = []
        for run in self.all("RUN"):
            assert not run.arguments.startswith("["), f"line {run.line}: RUN in exec form is not read here"
            commands += [c.strip() for c in run.arguments.split("&&") if c.strip()]
        return commands

    def text(self) -> str:
        """The stage's instructions, one a line, as written (continuations joined)."""
        return "\n".join([f"FROM {self.base}"] + [f"{i.keyword} {i.arguments}" for i in self.instructions])


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


@dataclass(frozen=True)
class RuntimeStage:
    """What the Dockerfile says the image's runtime stage is, read from it so that a test that
    assembles the stage without a container engine cannot drift from it."""

    base: str                  # the base image
    suite: str                 # the Debian release of the base image (`debian:bookworm-slim` → bookworm)
    slim: bool                 # a `-slim` base: documentation, manuals and translations left out
    packages: tuple[str, ...]  # what its `apt-get install` adds
    setup: tuple[str, ...]     # its RUN lines' other commands (user creation, clean-up)
    uid: int
    gid: int
    entrypoint: tuple[str, ...]
    cmd: tuple[str, ...]
    binary: PurePosixPath      # where the build stage's binary lands in the image
    binary_mode: int
    stripped: bool
    text: str                  # the stage's instructions

    @classmethod
    def read(cls, path: Path = DOCKERFILE) -> RuntimeStage:
        stages = parse(path)
        runtime = stages[-1]
        suite, slim = debian_release(runtime.base)
        [user] = runtime.all("USER")
        uid, _, gid = user.arguments.partition(":")
        assert uid.isdigit() and gid.isdigit(), (
            f"line {user.line}: USER {user.arguments} is not numeric UID:GID, which Kubernetes' runAsNonRoot needs")
        [entrypoint] = runtime.all("ENTRYPOINT")
        [cmd] = runtime.all("CMD")
        binary, mode, stripped = installed_binary(stages, runtime)
        setup = tuple(c for c in runtime.run_commands() if shlex.split(c)[:1] != ["apt-get"])
        return cls(runtime.base, suite, slim, tuple(sorted(runtime.apt_installs())), setup, int(uid), int(gid),
                   tuple(exec_form(entrypoint)), tuple(exec_form(cmd)), binary, mode, stripped, runtime.text())


def debian_release(image: str) -> tuple[str, bool]:
    """`debian:bookworm-slim` (or `docker.io/library/debian:…`) → ("bookworm", True)."""
    name, _, tag = image.partition(":")
    assert name in ("debian", "docker.io/library/debian") and tag, f"{image}: not an official Debian image"
    tag = tag.split("@", 1)[0]
    slim = tag.endswith("-slim")
    suite = tag.removesuffix("-slim")
    assert re.fullmatch(r"[a-z]+", suite), f"{image}: the tag names no Debian release (e.g. bookworm-slim)"
    return suite, slim


def installed_binary(stages: list[Stage], runtime: Stage) -> tuple[PurePosixPath, int, bool]:
    """Where `beluga-secrets` lands in the runtime stage, with which mode, and whether it is
    stripped: the build stage's `install -m MODE … DEST` and `strip DEST`, and the runtime
    stage's `COPY --from=<build> SRC DST` that brings DEST in."""
    [copy] = [c for c in runtime.all("COPY") if c.arguments.startswith("--from=")]
    source_stage, source, target = re.fullmatch(r"--from=(\S+)\s+(\S+)\s+(\S+)", copy.arguments).groups()
    [build] = [s for s in stages if s.name == source_stage]
    for command in build.run_commands():
        words = shlex.split(command)
        if words[:1] == ["install"] and words[-1].endswith("/beluga-secrets"):
            mode = int(words[words.index("-m") + 1], 8) if "-m" in words else 0o755
            destination = PurePosixPath(words[-1])
            stripped = any(shlex.split(c) == ["strip", str(destination)] for c in build.run_commands())
            relative = destination.relative_to(PurePosixPath(source))
            return PurePosixPath(target) / relative, mode, stripped
    raise AssertionError(f"the {source_stage} stage does not `install` beluga-secrets")
