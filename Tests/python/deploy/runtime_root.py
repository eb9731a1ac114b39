"""The image's runtime stage, assembled and run without a container engine.

No Docker engine runs here, but the runtime stage is only a Debian base, a few packages, a user
and the binary, and Debian's own tools make the same root:

- `debootstrap --variant=minbase --include=<the stage's packages> <release> ROOT <mirror>`:
  minbase is what the official `debian:<release>` images hold (the packages of Priority
  required, and apt); `--include` adds what the stage's `apt-get install` adds (debootstrap
  installs no Recommends, like `--no-install-recommends`). The mirror is the one apt uses on
  this machine (BELUGA_DEBIAN_MIRROR overrides it).
- the stage's other RUN commands (user creation, clean-up) in a chroot of ROOT, as `docker
  build` runs them;
- for a `-slim` base, the documentation, manuals and translations the slim images leave out.

Everything is read from the Dockerfile (`dockerfile.RuntimeStage`). Assembling takes minutes
(downloads included), so the root is kept under `.build-release/runtime-root-<hash of the stage's
instructions and the mirror>` and assembled again only when those change.

A run stacks layers as a container engine does: the cached root is the lower layer of an
overlay mount, never written; the binary goes into the upper layer at the path and mode the
Dockerfile's `install` and `COPY --from` give it; the result is mounted read-only (the chart's
`readOnlyRootFilesystem`), with a tmpfs on /tmp (its emptyDir), /proc, a /dev with the usual
devices, and the service-account folder bound read-only where the kubelet mounts it. Then
`chroot --userspec=UID:GID` runs ENTRYPOINT + arguments with the container's environment.
A read-only mount rather than a before-and-after comparison of the files: a write outside /tmp
is refused here exactly as the cluster refuses it, so the agent has to work without it; a file
written and removed again, or a change within a timestamp's granularity, cannot slip through;
and the test reads the agent's own mount table to see that it really ran that way. All
of it happens in a private mount namespace (`unshare --mount`) that ends with the process: no
mount outlives a run, even when a test is killed, and nothing is mounted on this machine's own
paths.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import re
import shutil
import subprocess
import time
from dataclasses import dataclass
from fnmatch import fnmatch
from pathlib import Path, PurePosixPath

from dockerfile import REPO_ROOT, RuntimeStage

SCRATCH = REPO_ROOT / ".build-release"
ROOT_PREFIX = "runtime-root-"
# Changes when the assembly below would produce a different root from the same Dockerfile.
RECIPE = "debootstrap minbase + RUN commands + slimify, v1"
DEBOOTSTRAP_TIMEOUT_SECONDS = 30 * 60
# What the official images set (ENV PATH of debian:*), so ENTRYPOINT's bare name resolves as
# it does in the image.
IMAGE_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
SERVICE_ACCOUNT_DIR = "/var/run/secrets/kubernetes.io/serviceaccount"
# What the official -slim images leave out (debuerreotype's .slimify-excludes and
# .slimify-includes, written into their /etc/dpkg/dpkg.cfg.d/docker).
SLIM_EXCLUDES = ("/usr/share/doc/*", "/usr/share/groff/*", "/usr/share/info/*", "/usr/share/linda/*",
                 "/usr/share/lintian/overrides/*", "/usr/share/locale/*", "/usr/share/man/*")
SLIM_INCLUDES = ("/usr/share/doc/*/copyright", "/usr/share/locale/all_languages", "/usr/share/locale/currency/*",
                 "/usr/share/locale/l10n/*", "/usr/share/locale/languages", "/usr/share/locale/locale.alias")
# The devices a container runtime puts in a container's /dev.
DEVICES = ("null", "zero", "full", "random", "urandom", "tty")


class AssemblyError(AssertionError):
    """The runtime stage could not be assembled; the message says why and what to do."""


def require_root() -> None:
    if os.geteuid() != 0:
        raise AssemblyError("assembling and running the image's runtime stage needs root (debootstrap, mount, "
                            "chroot): run `make test` as root, as CI does")


def debian_mirror(suite: str) -> str:
    """The Debian mirror apt uses here for `suite` (`apt-get indextargets`, which reads
    sources.list and the deb822 .sources alike)."""
    if os.environ.get("BELUGA_DEBIAN_MIRROR"):
        return os.environ["BELUGA_DEBIAN_MIRROR"]
    listing = subprocess.run(
        ["apt-get", "indextargets", "--no-release-info", "--format", "$(TARGET_OF) $(RELEASE) $(REPO_URI)"],
        capture_output=True, text=True, check=False)
    for line in listing.stdout.splitlines():
        words = line.split()
        if len(words) == 3 and words[0] == "deb" and words[1] == suite:
            return words[2]
    raise AssemblyError(f"apt has no Debian {suite} source configured here (apt-get indextargets), so the "
                        f"runtime stage cannot be assembled: set BELUGA_DEBIAN_MIRROR to a Debian mirror "
                        f"(e.g. http://deb.debian.org/debian)")


def apt_proxy_environment() -> dict[str, str]:
    """apt's HTTP proxy, if one is configured, for debootstrap's downloads (wget)."""
    shown = subprocess.run(["apt-config", "shell", "PROXY", "Acquire::http::Proxy"], capture_output=True,
                           text=True, check=False).stdout
    match = re.match(r"PROXY='(.+)'", shown.strip())
    return {"http_proxy": match.group(1)} if match else {}


def debootstrap_command(stage: RuntimeStage, mirror: str, target: Path) -> list[str]:
    return ["debootstrap", "--variant=minbase", f"--include={','.join(stage.packages)}", stage.suite,
            str(target), mirror]


def cache_key(stage: RuntimeStage, mirror: str) -> str:
    return hashlib.sha256("\n".join([RECIPE, mirror, stage.text]).encode()).hexdigest()[:16]


def assembled_root(stage: RuntimeStage) -> Path:
    """The runtime stage's root (without the binary), assembled now or found in the cache."""
    require_root()
    if shutil.which("debootstrap") is None:
        raise AssemblyError("debootstrap is missing: `make test` installs it (TEST_APT_PACKAGES), or "
                            "`apt-get install debootstrap`")
    mirror = debian_mirror(stage.suite)
    key = cache_key(stage, mirror)
    root = SCRATCH / f"{ROOT_PREFIX}{key}"
    SCRATCH.mkdir(exist_ok=True)
    with open(SCRATCH / f"{ROOT_PREFIX}lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if root.is_dir():
            return root
        remove_stale_roots()
        partial = SCRATCH / f"{ROOT_PREFIX}{key}.partial"
        started = time.monotonic()
        try:
            debootstrap(stage, mirror, partial)
            run_setup(stage, partial)
            if stage.slim:
                slimify(partial)
        except BaseException:
            if partial.exists():
                remove_tree(partial)
            raise
        (SCRATCH / f"{ROOT_PREFIX}{key}.json").write_text(json.dumps({
            "command": debootstrap_command(stage, mirror, root), "setup": list(stage.setup), "slim": stage.slim,
            "assembled": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "seconds": round(time.monotonic() - started)}, indent=2) + "\n")
        partial.rename(root)
        return root


def remove_stale_roots() -> None:
    """Removes partly assembled roots, and the roots of older Dockerfiles but the latest (so that
    going back and forth between two versions, as between two branches, assembles nothing)."""
    folders = [p for p in SCRATCH.glob(f"{ROOT_PREFIX}*") if p.is_dir() and not p.is_symlink()]
    partial = [p for p in folders if p.suffix == ".partial"]
    complete = sorted((p for p in folders if p.suffix != ".partial"),
                      key=lambda p: p.with_suffix(".json").stat().st_mtime if p.with_suffix(".json").exists() else 0,
                      reverse=True)
    for stale in partial + complete[1:]:
        remove_tree(stale)
        stale.with_suffix(".json").unlink(missing_ok=True)


def debootstrap(stage: RuntimeStage, mirror: str, target: Path) -> None:
    # In a private mount namespace: the /proc and /sys debootstrap mounts in the target cannot
    # stay behind, even if it is killed.
    command = ["unshare", "--mount", "--propagation", "private", "--", *debootstrap_command(stage, mirror, target)]
    log = target.with_suffix(".log")
    env = {"PATH": IMAGE_PATH, "LANG": "C.UTF-8", **apt_proxy_environment()}
    with open(log, "w") as output:
        try:
            result = subprocess.run(command, stdout=output, stderr=subprocess.STDOUT, env=env,
                                    timeout=DEBOOTSTRAP_TIMEOUT_SECONDS, check=False)
        except subprocess.TimeoutExpired:
            raise AssemblyError(f"debootstrap did not finish within {DEBOOTSTRAP_TIMEOUT_SECONDS // 60} minutes "
                                f"fetching Debian {stage.suite} from {mirror}; its log: {log}") from None
    if result.returncode != 0:
        tail = "\n".join(log.read_text(errors="replace").splitlines()[-15:])
        raise AssemblyError(
            f"debootstrap could not assemble the runtime stage (Debian {stage.suite} with "
            f"{', '.join(stage.packages)}) from {mirror}, the Debian mirror apt uses here (BELUGA_DEBIAN_MIRROR "
            f"overrides it); is it reachable, and are the Dockerfile's runtime packages in {stage.suite}? "
            f"Exit {result.returncode}, last lines of {log}:\n{tail}")
    log.unlink()


def run_setup(stage: RuntimeStage, root: Path) -> None:
    """The stage's RUN commands but apt-get (debootstrap installed the packages), in a chroot
    with /proc, as `docker build` runs them; then apt's download cache emptied, as the official
    images' apt configuration (docker-clean) does after every install."""
    script = " && ".join([*stage.setup, "apt-get clean"])
    result = subprocess.run(
        ["unshare", "--mount", "--propagation", "private", "--", "/bin/sh", "-euc",
         'mount -t proc proc "$1/proc"; exec chroot "$1" /bin/sh -c "$2"', "sh", str(root), script],
        capture_output=True, text=True, env={"PATH": IMAGE_PATH, "LANG": "C.UTF-8"}, timeout=600, check=False)
    if result.returncode != 0:
        raise AssemblyError(f"the runtime stage's RUN commands failed in the assembled root ({script}): "
                            f"{result.stderr.strip()}")


def slimify(root: Path) -> None:
    """Removes what the -slim images leave out (keeping their exceptions)."""
    for pattern in SLIM_EXCLUDES:
        top = root / pattern.removesuffix("/*").lstrip("/")
        if not top.is_dir() or top.is_symlink():
            continue
        assert top.resolve().is_relative_to(root.resolve()), top
        # Bottom-up, so that a folder is emptied before it is looked at.
        for folder, folders, files in os.walk(top, topdown=False):
            for name in files + folders:
                path = Path(folder) / name
                if path.is_symlink() or not path.is_dir():
                    if not any(fnmatch("/" + str(path.relative_to(root)), keep) for keep in SLIM_INCLUDES):
                        path.unlink()
                elif not any(path.iterdir()):
                    path.rmdir()


def mount_points() -> list[Path]:
    """Every mount point of this process's mount namespace."""
    points = []
    for line in Path("/proc/self/mountinfo").read_text().splitlines():
        field = line.split()[4]
        points.append(Path(re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), field)))
    return points


def remove_tree(path: Path) -> None:
    """Removes an assembled (or partly assembled) root, only inside .build-release, only when
    nothing is mounted in it, and without crossing into another file system."""
    resolved = path.resolve()
    assert resolved.parent == SCRATCH.resolve() and resolved.name.startswith(ROOT_PREFIX), resolved
    mounted = [p for p in mount_points() if p == resolved or p.is_relative_to(resolved)]
    assert not mounted, f"not removing {resolved}: {mounted} mounted in it"
    subprocess.run(["rm", "-rf", "--one-file-system", "--", str(resolved)], check=True)


def in_root(root: Path, path: str) -> PurePosixPath:
    """`path` as a process chrooted into `root` finds it: symbolic links followed inside `root`
    (an absolute target starts again from its top), never out of it. In Debian's root
    /var/run links to /run, which followed on this machine would be this machine's /run."""
    pending = [p for p in path.split("/") if p]
    resolved: list[str] = []
    links = 0
    while pending:
        part = pending.pop(0)
        if part == ".":
            continue
        if part == "..":
            if resolved:
                resolved.pop()
            continue
        here = root.joinpath(*resolved, part)
        if here.is_symlink():
            links += 1
            assert links <= 40, f"{path}: too many symbolic links in {root}"
            target = os.readlink(here)
            if target.startswith("/"):
                resolved = []
            pending = [p for p in target.split("/") if p] + pending
            continue
        resolved.append(part)
    return PurePosixPath("/", *resolved)


# ---------------------------------------------------------------------------------------------
# Running the image.

# Runs in the private mount namespace, as root, then becomes the container's process: the
# arguments are the folders of one run, the service-account folder (or ""), /tmp's size, the
# user, then the command.
MOUNT_AND_RUN = r"""
set -eu
lower=$1 upper=$2 work=$3 layers=$4 root=$5 accounts=$6 account_dir=$7 tmp_size=$8 user=$9
shift 9
mount -t overlay overlay -o "lowerdir=$lower,upperdir=$upper,workdir=$work" "$layers"
mount --bind "$layers" "$root"
mount -o remount,bind,ro "$root"
mount -t proc -o nosuid,nodev,noexec proc "$root/proc"
mount -t tmpfs -o nosuid,noexec,mode=0755,size=64k tmpfs "$root/dev"
for device in DEVICES; do
  : > "$root/dev/$device"
  mount --bind "/dev/$device" "$root/dev/$device"
done
ln -s /proc/self/fd "$root/dev/fd"
ln -s /proc/self/fd/0 "$root/dev/stdin"
ln -s /proc/self/fd/1 "$root/dev/stdout"
ln -s /proc/self/fd/2 "$root/dev/stderr"
mount -t tmpfs -o "nosuid,nodev,mode=1777,size=$tmp_size" tmpfs "$root/tmp"
if [ -n "$accounts" ]; then
  mount --bind "$accounts" "$root$account_dir"
  mount -o remount,bind,ro "$root$account_dir"
fi
exec chroot --userspec="$user" "$root" "$@"
""".replace("DEVICES", " ".join(DEVICES))


@dataclass
class Image:
    """The runtime stage's root and the binary its COPY adds: what `docker build` would make."""

    stage: RuntimeStage
    root: Path     # the assembled root, shared and never written
    binary: Path   # beluga-secrets as the build stage leaves it (stripped if it strips)
    runs: int = 0

    def environment(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        """The container's environment: the image's PATH, HOME of its user, and `extra` (the
        pod's variables); nothing from this machine."""
        return {"PATH": IMAGE_PATH, "HOME": self.home(), **(extra or {})}

    def home(self) -> str:
        """The home folder the user's /etc/passwd entry names (a runtime sets HOME from it), else /."""
        for line in (self.root / "etc" / "passwd").read_text().splitlines():
            fields = line.split(":")
            if len(fields) == 7 and fields[2] == str(self.stage.uid):
                return fields[5]
        return "/"

    def command(self, folder: Path, args: list[str], service_account: Path | None = None,
                tmp_size: str = "16m", entrypoint: list[str] | None = None) -> list[str]:
        """The command line that runs ENTRYPOINT (or a container's `command`) + `args` in a
        fresh container of the image, as its USER, on a read-only root; `service_account` (a
        folder here) is mounted where the kubelet mounts the pod's token, CA and namespace."""
        self.runs += 1
        run = folder / f"container-{self.runs}"
        upper, work, layers, root = (run / name for name in ("upper", "work", "layers", "root"))
        for path in (upper, work, layers, root):
            path.mkdir(parents=True)
        # The COPY layer: the binary at the path and mode the Dockerfile gives it, owned by root.
        binary = self.in_upper(upper, str(self.stage.binary))
        shutil.copyfile(self.binary, binary)
        binary.chmod(self.stage.binary_mode)
        account_dir = in_root(self.root, SERVICE_ACCOUNT_DIR)
        if service_account is not None:
            # The mount point, as the container runtime creates it before mounting.
            self.in_upper(upper, str(account_dir)).mkdir()
        for mount_point in ("/proc", "/dev", "/tmp"):
            # mount(8) follows links on this machine: the points must be plain folders.
            assert in_root(self.root, mount_point) == PurePosixPath(mount_point), mount_point
            assert (self.root / mount_point.lstrip("/")).is_dir(), mount_point
        entrypoint = list(self.stage.entrypoint) if entrypoint is None else entrypoint
        return ["unshare", "--mount", "--propagation", "private", "--", "/bin/sh", "-c", MOUNT_AND_RUN, "sh",
                str(self.root), str(upper), str(work), str(layers), str(root),
                str(service_account or ""), str(account_dir), tmp_size, f"{self.stage.uid}:{self.stage.gid}",
                *entrypoint, *args]

    def in_upper(self, upper: Path, path: str) -> Path:
        """`path` in the upper layer, its parent folders created with the owner and mode they
        have in the root (an overlay shows the upper layer's folder attributes)."""
        inside = in_root(self.root, path)
        target = upper
        for part in inside.parent.parts[1:]:
            target = target / part
            lower = self.root / target.relative_to(upper)
            if not target.exists():
                target.mkdir()
                if lower.is_dir():
                    info = lower.stat()
                    os.chown(target, info.st_uid, info.st_gid)
                    target.chmod(info.st_mode & 0o7777)
        return target / inside.name

    def run(self, folder: Path, args: list[str], env: dict[str, str] | None = None,
            service_account: Path | None = None, entrypoint: list[str] | None = None,
            timeout: float = 60) -> subprocess.CompletedProcess:
        return subprocess.run(self.command(folder, args, service_account, entrypoint=entrypoint),
                              capture_output=True, env=self.environment(env), timeout=timeout, check=False)


def stripped_copy(binary: Path, folder: Path) -> Path:
    """`strip` of a copy, as the build stage strips its binary."""
    copy = folder / binary.name
    shutil.copy(binary, copy)
    subprocess.run(["strip", str(copy)], check=True)
    return copy


# ---------------------------------------------------------------------------------------------
# What the stage adds to its base (for `make bench`).

def installed_packages(root: Path) -> dict[str, dict[str, str]]:
    """The packages installed in `root`, from its dpkg database: name → control fields."""
    packages: dict[str, dict[str, str]] = {}
    for block in (root / "var" / "lib" / "dpkg" / "status").read_text().strip().split("\n\n"):
        fields: dict[str, str] = {}
        key = ""
        for line in block.splitlines():
            if line.startswith((" ", "\t")):
                fields[key] += "\n" + line
            else:
                key, _, value = line.partition(":")
                fields[key] = value.strip()
        if fields.get("Status", "").endswith(" installed"):
            packages[fields["Package"]] = fields
    return packages


def base_packages(root: Path) -> set[str]:
    """What `debootstrap --variant=minbase` installs without `--include` (the base image's
    packages): those of Priority required, apt, and what they depend on, as installed in `root`.
    (Checked against `debootstrap --print-debs --variant=minbase bookworm`: the same 88.)"""
    packages = installed_packages(root)
    providers: dict[str, list[str]] = {}
    for name, fields in packages.items():
        for provided in fields.get("Provides", "").split(","):
            provided = re.sub(r"\(.*?\)", "", provided).strip()
            if provided:
                providers.setdefault(provided, []).append(name)
    pending = [n for n, f in packages.items() if f.get("Priority") == "required"] + ["apt"]
    seen: set[str] = set()
    while pending:
        name = pending.pop()
        if name in seen or name not in packages:
            continue
        seen.add(name)
        for field in ("Pre-Depends", "Depends"):
            for group in packages[name].get(field, "").split(","):
                for alternative in group.split("|"):
                    alternative = re.sub(r"\(.*?\)", "", alternative).strip().split(":")[0]
                    found = [alternative] if alternative in packages else providers.get(alternative, [])
                    if found:
                        pending.append(found[0])
                        break
    return seen


def package_files(root: Path, package: str) -> tuple[set[PurePosixPath], set[PurePosixPath]]:
    """The files and links, and the folders, `package` owns in `root` (dpkg's list, resolved
    inside the root: on a merged-/usr system dpkg may list /lib/… for /usr/lib/…)."""
    info = root / "var" / "lib" / "dpkg" / "info"
    listing = next((p for p in (info / f"{package}.list", *info.glob(f"{package}:*.list")) if p.exists()), None)
    files: set[PurePosixPath] = set()
    folders: set[PurePosixPath] = set()
    for line in (listing.read_text().splitlines() if listing else []):
        if not line.startswith("/") or line == "/.":
            continue
        path = in_root(root, str(PurePosixPath(line).parent)) / PurePosixPath(line).name
        host = root / path.relative_to("/")
        if host.is_symlink() or host.is_file():
            files.add(path)
        elif host.is_dir():
            folders.add(in_root(root, line))
    return files, folders


def added_files(root: Path) -> list[PurePosixPath]:
    """The files the stage's packages add to the base: those the packages beyond the base own,
    and those no package owns in folders only they own (what their maintainer scripts write,
    such as the CA bundle and its links)."""
    base = base_packages(root)
    added, added_folders = set(), set()
    base_files, base_folders = set(), set()
    for name in installed_packages(root):
        files, folders = package_files(root, name)
        if name in base:
            base_files |= files
            base_folders |= folders
        else:
            added |= files
            added_folders |= folders
    added -= base_files
    owned = base_files | added
    for folder in added_folders - base_folders:
        for entry in (root / folder.relative_to("/")).iterdir():
            path = folder / entry.name
            if (entry.is_symlink() or entry.is_file()) and path not in owned:
                added.add(path)
    return sorted(added)
