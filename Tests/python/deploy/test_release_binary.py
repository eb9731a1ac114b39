"""The release binary needs no shared library beyond those the image's runtime stage installs.

No Docker engine runs here, so the image cannot be built. Instead: build `beluga-secrets` with
the Dockerfile's own `swift build` command (read from the Dockerfile, not copied) into a separate
scratch path, read the DT_NEEDED entries of its dynamic section, and map each library to the
Debian package that ships it on this machine (Debian 12, the runtime stage's release). Every one
must come from glibc or from the runtime stage's packages and their dependencies.
"""

from __future__ import annotations

import os
import re
import subprocess
from functools import cache
from pathlib import Path

from elftools.elf.dynamic import DynamicSection
from elftools.elf.elffile import ELFFile

from dockerfile import parse
from release import release_binary  # noqa: F401 (the shared fixture)

GLIBC = "libc6"


def dynamic_entries(binary: Path, tag: str) -> list[str]:
    with binary.open("rb") as stream:
        elf = ELFFile(stream)
        for section in elf.iter_sections():
            if isinstance(section, DynamicSection):
                entries = []
                for entry in section.iter_tags():
                    if entry.entry.d_tag == tag:
                        entries.append(
                            getattr(entry, "needed", None)
                            or getattr(entry, "runpath", None)
                            or getattr(entry, "rpath", None)
                        )
                return entries
    return []


@cache
def loader_cache() -> dict[str, str]:
    """soname → path of the 64-bit x86 library, from `ldconfig -p`."""
    listing = subprocess.run(["ldconfig", "-p"], capture_output=True, text=True, check=True).stdout
    paths: dict[str, str] = {}
    for line in listing.splitlines():
        match = re.match(r"\s*(\S+) \(([^)]*)\) => (\S+)", line)
        if match and "x86-64" in match.group(2):
            paths.setdefault(match.group(1), match.group(3))
    return paths


def owning_package(path: str) -> str:
    candidates = {path, os.path.realpath(path)}
    # Debian 12 is /usr-merged: dpkg may know a file under either spelling.
    for candidate in list(candidates):
        if candidate.startswith("/usr/"):
            candidates.add(candidate[len("/usr") :])
        else:
            candidates.add("/usr" + candidate)
    for candidate in sorted(candidates):
        result = subprocess.run(["dpkg", "-S", candidate], capture_output=True, text=True)
        if result.returncode == 0:
            return result.stdout.split(":")[0].strip()
    raise AssertionError(f"no Debian package ships {path}")


@cache
def installed_packages() -> dict[str, list[list[str]]]:
    """Installed package → its Depends and Pre-Depends, each a list of alternatives."""
    listing = subprocess.run(
        ["dpkg-query", "-W", "-f=${Package}|${Status}|${Depends}, ${Pre-Depends}\\n"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    packages: dict[str, list[list[str]]] = {}
    for line in listing.splitlines():
        name, status, relations = line.split("|", 2)
        if status != "install ok installed":
            continue
        packages[name] = [
            [re.sub(r"\(.*?\)", "", a).strip().split(":")[0] for a in group.split("|")]
            for group in relations.split(",")
            if group.strip()
        ]
    return packages


def closure(packages: set[str]) -> set[str]:
    """The packages and everything they depend on, as installed here (first installed alternative)."""
    installed = installed_packages()
    seen: set[str] = set()
    pending = list(packages)
    while pending:
        package = pending.pop()
        if package in seen:
            continue
        assert package in installed, f"{package} (a runtime-stage package) is not installed here to compare"
        seen.add(package)
        for alternatives in installed[package]:
            chosen = [a for a in alternatives if a in installed]
            pending.extend(chosen[:1])
    return seen


def test_needs_only_the_runtime_stages_libraries(release_binary):
    needed = dynamic_entries(release_binary, "DT_NEEDED")
    assert needed, "no DT_NEEDED entries: not a dynamic executable?"
    # The Swift runtime is linked in (--static-swift-stdlib): nothing from the toolchain.
    toolchain = [n for n in needed if re.match(r"lib(swift|Foundation|dispatch|BlocksRuntime|icu|_Foundation)", n)]
    assert toolchain == [], f"the binary needs toolchain libraries the image does not have: {toolchain}"

    _, runtime = parse()
    allowed = closure(runtime.apt_installs()) | {GLIBC}
    missing = {}
    for soname in needed:
        path = loader_cache().get(soname)
        assert path, f"{soname} is not installed here, so it cannot be traced to a package"
        package = owning_package(path)
        if package not in allowed:
            missing[soname] = package
    assert missing == {}, f"libraries from packages the runtime stage does not install: {missing}"
    # The libraries the product is built on are there, and come from the named packages.
    packages = {owning_package(loader_cache()[s]) for s in needed}
    assert {"libcurl4", "libsodium23", "libyaml-0-2", GLIBC} <= packages, packages


def test_no_search_path_into_the_build_machine(release_binary):
    for tag in ("DT_RPATH", "DT_RUNPATH"):
        for entry in dynamic_entries(release_binary, tag):
            for directory in entry.split(":"):
                assert directory in ("$ORIGIN", ""), f"{tag} {directory} points into the build machine"
