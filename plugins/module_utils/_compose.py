# Copyright: (c) 2026, Financial Stronghold operations team
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# This module util is PRIVATE to the stronghold.ops collection: its interface may change
# between any two releases. Do not import it from outside the collection.
"""Docker Compose v2 and the Docker CLI, with every version quirk in this one file.

Compose has no stable output format (community.docker's docs say so); the readers below
accept the shapes seen across v2 releases and say which release each quirk belongs to.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
from typing import Any, Callable, Iterable, Mapping, Optional, Sequence

from ansible_collections.stronghold.ops.plugins.module_utils._compose_status import (
    PROJECT_LABEL,
    Summary,
    container_summary,
    service_containers,
)

# runner(argv, cwd, env) -> (rc, stdout, stderr): AnsibleModule.run_command in a module.
Runner = Callable[..., tuple[int, str, str]]

MIN_COMPOSE = (2, 18, 0)
_VERSION = re.compile(r"v?(\d+)\.(\d+)\.(\d+)")
# Compose reads these from the environment and they would silently change which files,
# project or profiles a command acts on; the module passes all of them explicitly.
COMPOSE_ENV = (
    "COMPOSE_FILE",
    "COMPOSE_PROJECT_NAME",
    "COMPOSE_PROFILES",
    "COMPOSE_ENV_FILES",
    "COMPOSE_PATH_SEPARATOR",
    "COMPOSE_IGNORE_ORPHANS",
    "COMPOSE_REMOVE_ORPHANS",
)
_INTERPOLATION = re.compile(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)")


class ComposeError(Exception):
    def __init__(
        self,
        message: str,
        command: Optional[Sequence[str]] = None,
        rc: Optional[int] = None,
        stderr: Optional[str] = None,
    ) -> None:
        super().__init__(message)
        self.command = command
        self.rc = rc
        self.stderr = stderr


def parse_version(text: Optional[str]) -> Optional[tuple[int, ...]]:
    match = _VERSION.search(text or "")
    return tuple(int(x) for x in match.groups()) if match else None


def interpolated_names(texts: Iterable[str]) -> set[str]:
    """Variable names a Compose file interpolates (${VAR}, ${VAR:-x}, $VAR)."""
    names: set[str] = set()
    for text in texts:
        names.update(_INTERPOLATION.findall(text.replace("$$", "")))
    return names


def clean_environment(
    base_env: Mapping[str, str],
    compose_texts: Iterable[str],
    docker_host: Optional[str] = None,
    keep: Iterable[str] = (),
) -> tuple[dict[str, str], list[str]]:
    """The environment for Compose: shell variables the files interpolate are removed, so the
    project's env files decide, not whatever the caller's shell exported (a TAG left in the
    shell turned a rollback into a no-op in spoo-me/spoo#353)."""
    env = dict(base_env)
    removed = []
    for name in sorted(interpolated_names(compose_texts) | set(COMPOSE_ENV)):
        if name in env and name not in keep:
            removed.append(name)
            del env[name]
    if docker_host:
        env["DOCKER_HOST"] = docker_host
    return env, removed


class Compose:
    """One Compose project, driven through the CLI."""

    def __init__(
        self,
        runner: Runner,
        project_src: str,
        files: Sequence[str],
        env_files: Sequence[str],
        profiles: Sequence[str],
        project_name: Optional[str],
        env: Mapping[str, str],
        compose_command: Optional[Sequence[str]] = None,
        docker_command: str = "docker",
    ) -> None:
        self.runner = runner
        self.project_src = project_src
        self.files = files
        self.env_files = env_files
        self.profiles = profiles
        self.project_name = project_name
        self.env = env
        self.docker = docker_command
        self.commands: list[str] = []
        self._images: dict[str, dict[str, Any]] = {}
        # The last `docker container inspect` as Docker gave it (the health gate paces itself on it).
        self.inspected: list[dict[str, Any]] = []
        self.base: Optional[list[str]] = list(compose_command) if compose_command else None
        self.version: tuple[int, ...] = ()

    def run(self, argv: Sequence[str], check: bool = True, record: bool = True) -> tuple[int, str, str]:
        """Run a command with the project's environment; returns (rc, stdout, stderr)."""
        if record:
            self.commands.append(" ".join(argv))
        try:
            rc, out, err = self.runner(argv, cwd=self.project_src, env=self.env)
        except OSError as exc:
            raise ComposeError("cannot run %s: %s" % (argv[0], exc), command=argv) from exc
        if check and rc != 0:
            # Compose prints progress lines first and the reason last.
            lines = [line.strip() for line in err.splitlines() if line.strip()]
            verb = [a for a in argv if a in ("up", "config", "ps", "ls", "inspect", "pull", "version", "stop", "rm")][
                :1
            ]
            message = "%s %s failed (rc %d): %s" % (
                " ".join(argv[:2]),
                " ".join(verb),
                rc,
                lines[-1] if lines else "no output",
            )
            raise ComposeError(message, command=argv, rc=rc, stderr=err)
        return rc, out, err

    # --- which Compose ---------------------------------------------------------------------
    def detect(self) -> tuple[int, ...]:
        """Find Compose v2 and return its version; refuse v1 with a way out."""
        candidates = [self.base] if self.base else [[self.docker, "compose"], ["docker-compose"]]
        seen: list[str] = []
        for base in candidates:
            try:
                rc, out, err = self.run(base + ["version"], check=False, record=False)
            except ComposeError as exc:
                seen.append(str(exc))
                continue
            output = (out + err).strip()
            version = parse_version(output)
            if rc != 0 or version is None:
                seen.append("%s: %s" % (" ".join(base), output.splitlines()[0] if output else "rc %d" % rc))
                continue
            if version[0] < 2:
                raise ComposeError(
                    "%s is Compose v1 (%s), which reached end of life in 2023 and is not supported; install Compose v2 "
                    "(the docker-compose-plugin package, or the docker-compose v2 binary in ~/.docker/cli-plugins/) and use "
                    "`docker compose`" % (" ".join(base), ".".join(str(v) for v in version))
                )
            if version < MIN_COMPOSE:
                raise ComposeError(
                    "%s is Compose %s; version %s or later is needed"
                    % (" ".join(base), ".".join(str(v) for v in version), ".".join(str(v) for v in MIN_COMPOSE))
                )
            self.base = base
            self.version = version
            return version
        raise ComposeError("Compose v2 not found (%s)" % "; ".join(seen))

    def project_args(self, extra_files: Sequence[str] = ()) -> list[str]:
        args = list(self.base or [])
        args += ["--ansi", "never", "--project-directory", self.project_src]
        if self.project_name:
            args += ["-p", self.project_name]
        for name in list(self.files) + list(extra_files):
            args += ["-f", name]
        for name in self.env_files:
            args += ["--env-file", name]
        for name in self.profiles:
            args += ["--profile", name]
        return args

    # --- read ------------------------------------------------------------------------------
    def config(self) -> dict[str, Any]:
        out = self.run(self.project_args() + ["config", "--format", "json"])[1]
        try:
            config: dict[str, Any] = json.loads(out)
            return config
        except ValueError as exc:
            raise ComposeError("compose config did not return JSON: %s" % out[:200]) from exc

    def ps(self) -> list[dict[str, Any]]:
        out = self.run(self.project_args() + ["ps", "--all", "--format", "json"])[1]
        return parse_ps(out)

    def inspect_containers(self, ids: Sequence[str]) -> list[dict[str, Any]]:
        if not ids:
            return []
        out = self.run([self.docker, "container", "inspect"] + list(ids))[1]
        inspected: list[dict[str, Any]] = json.loads(out)
        self.inspected = inspected
        return inspected

    def inspect_image(self, reference: str) -> Optional[dict[str, Any]]:
        """The image as the engine knows it, or None when it is not present locally."""
        if reference in self._images:
            return self._images[reference]
        rc, out, dummy = self.run([self.docker, "image", "inspect", reference], check=False)
        data = json.loads(out) if rc == 0 else None
        image = data[0] if data else None
        if image is not None:
            self._images[reference] = image
        return image

    def pull(self, reference: str) -> None:
        self.run([self.docker, "pull", reference])

    def project_container_ids(self) -> list[str]:
        """Ids of the project's containers, stopped ones and one-off runs included: the set
        `compose ps --all` lists (Compose selects them by the project label too), from the Docker
        CLI, which starts in a tenth of the time of Compose (bench/compose_rollback.py). Before the
        project name is known, `compose ps`."""
        if not self.project_name:
            return [c["ID"] for c in self.ps()]
        argv = [self.docker, "container", "ls", "--all", "--quiet", "--no-trunc"]
        out = self.run(argv + ["--filter", "label=%s=%s" % (PROJECT_LABEL, self.project_name)])[1]
        return out.split()

    def containers(self, ids: Optional[Sequence[str]] = None) -> list[Summary]:
        """The project's containers (or those of ``ids``), as _compose_status.container_summary reads them."""
        if ids is None:
            ids = self.project_container_ids()
        return [container_summary(c) for c in self.inspect_containers(ids)]

    def service_container_ids(self, services: Sequence[str]) -> dict[str, list[str]]:
        """service -> ids of its containers (one-off runs excluded), from the project's container list."""
        summaries = self.containers()
        return dict((s, [c["id"] for c in service_containers(summaries, s)]) for s in services)

    # --- act -------------------------------------------------------------------------------
    def up(
        self,
        services: Sequence[str],
        override_path: str,
        scale: Optional[Mapping[str, int]] = None,
        no_recreate: bool = False,
    ) -> None:
        # --no-deps: only the named services; --pull never: the images were checked present;
        # --no-build: a rollback never builds. Never `down`, never `-v`.
        # scale + no_recreate (start-first): the running containers are kept as they are and new
        # ones are created from the override until each service has `scale` containers.
        extra = ["--no-recreate"] if no_recreate else []
        for service, count in sorted((scale or {}).items()):
            extra += ["--scale", "%s=%d" % (service, count)]
        self.run(
            self.project_args([override_path])
            + ["up", "-d", "--no-deps", "--pull", "never", "--no-build"]
            + extra
            + list(services)
        )

    def up_pinned(
        self,
        images: Mapping[str, str],
        services: Sequence[str],
        directory: str,
        scale: Optional[Mapping[str, int]] = None,
        no_recreate: bool = False,
    ) -> None:
        """Recreate ``services`` with ``images`` (service -> image id) pinned in an override file
        written to ``directory`` for the time of the command (or, with ``scale`` and
        ``no_recreate``, add containers beside the running ones)."""
        os.makedirs(directory, mode=0o750, exist_ok=True)
        fd, override = tempfile.mkstemp(prefix="override-", suffix=".json", dir=directory)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                pinned = dict((s, {"image": images[s], "pull_policy": "never"}) for s in services)
                json.dump({"services": pinned}, handle)
            self.up(services, override, scale=scale, no_recreate=no_recreate)
        finally:
            os.unlink(override)

    def remove_containers(self, ids: Sequence[str]) -> None:
        """Stop (each container's own stop timeout, as Compose set it from stop_grace_period),
        then remove; never volumes."""
        if ids:
            self.run([self.docker, "container", "stop"] + list(ids))
            self.run([self.docker, "container", "rm"] + list(ids))


def start_first_problems(config_services: Mapping[str, Any], services: Sequence[str]) -> list[str]:
    """Why `services` (of `compose config`'s services) cannot run two containers at once."""
    problems: list[str] = []
    for service in services:
        config = config_services.get(service) or {}
        if config.get("container_name"):
            problems.append("%s sets container_name %s" % (service, config["container_name"]))
        fixed = [
            str(port.get("published"))
            for port in config.get("ports") or []
            if isinstance(port, dict) and port.get("published") not in (None, "", "0", 0)
        ]
        if fixed:
            problems.append("%s publishes fixed host port(s) %s" % (service, ", ".join(fixed)))
    return problems


def parse_ps(stdout: str) -> list[dict[str, Any]]:
    """Containers from `compose ps --format json`.

    Compose before 2.21.0 printed one JSON array; 2.21.0 and later print one object per line.
    """
    text = stdout.strip()
    if not text:
        return []
    if text.startswith("["):
        return json.loads(text)
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def files_hash(project_src: str, files: Sequence[str]) -> str:
    digest = hashlib.sha256()
    for name in files:
        path = name if os.path.isabs(name) else os.path.join(project_src, name)
        with open(path, "rb") as handle:
            digest.update(handle.read())
    return digest.hexdigest()


def default_compose_files(project_src: str) -> list[str]:
    for name in ("compose.yaml", "compose.yml", "docker-compose.yml", "docker-compose.yaml"):
        if os.path.exists(os.path.join(project_src, name)):
            return [name]
    return []


def image_summary(image: Mapping[str, Any], reference: Optional[str]) -> dict[str, Any]:
    digests = image.get("RepoDigests") or []
    return {"reference": reference, "image_id": image.get("Id"), "digest": digests[0] if digests else None}
