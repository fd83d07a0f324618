# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Pure parts of the Compose layer; the CLI itself is exercised against the real engine in
tests/integration/targets/compose_rollback."""

from __future__ import annotations

import pytest

from ansible_collections.stronghold.ops.plugins.module_utils._compose import (
    Compose,
    ComposeError,
    clean_environment,
    interpolated_names,
    parse_ps,
    parse_version,
    start_first_problems,
)

COMPOSE_TEXT = """
services:
  web:
    image: "financial-stronghold:${APP_TAG:?set APP_TAG}"
    command: ["sh", "-c", "echo $$HOME $OTHER"]
"""


def test_interpolated_names_ignore_escaped_dollars():
    assert interpolated_names([COMPOSE_TEXT]) == {"APP_TAG", "OTHER"}


def test_clean_environment_removes_interpolated_and_compose_variables():
    env, removed = clean_environment(
        {"APP_TAG": "9.9.9", "PATH": "/bin", "COMPOSE_FILE": "x.yml", "HOME": "/root"},
        [COMPOSE_TEXT],
        docker_host="unix:///tmp/d.sock",
    )
    assert removed == ["APP_TAG", "COMPOSE_FILE"]
    assert env == {"PATH": "/bin", "HOME": "/root", "DOCKER_HOST": "unix:///tmp/d.sock"}
    env, removed = clean_environment({"APP_TAG": "1"}, [COMPOSE_TEXT], keep=["APP_TAG"])
    assert env == {"APP_TAG": "1"} and removed == []


@pytest.mark.parametrize(
    "text, version",
    [
        ('{"version":"2.26.1-4"}', (2, 26, 1)),
        ("Docker Compose version v2.32.4", (2, 32, 4)),
        ("docker-compose version 1.29.2, build unknown", (1, 29, 2)),
        ("nonsense", None),
    ],
)
def test_parse_version(text, version):
    assert parse_version(text) == version


def test_parse_ps_reads_both_output_shapes():
    # Compose < 2.21 printed one array, later releases one object per line.
    assert parse_ps('[{"ID": "a"}, {"ID": "b"}]') == [{"ID": "a"}, {"ID": "b"}]
    assert parse_ps('{"ID": "a"}\n{"ID": "b"}\n') == [{"ID": "a"}, {"ID": "b"}]
    assert parse_ps("") == []


def fake_runner(outputs):
    calls = []

    def runner(argv, cwd, env):
        calls.append(argv)
        return outputs.get(" ".join(argv), (127, "", "not found"))

    return runner, calls


def test_detect_refuses_compose_v1_and_says_how_to_upgrade():
    runner, dummy = fake_runner(
        {
            "docker compose version": (1, "", "docker: 'compose' is not a docker command."),
            "docker-compose version": (0, "docker-compose version 1.29.2, build unknown\n", ""),
        }
    )
    with pytest.raises(ComposeError, match=r"docker-compose is Compose v1 \(1.29.2\).*install Compose v2"):
        Compose(runner, "/tmp", [], [], [], None, {}).detect()


def test_detect_prefers_the_plugin_and_refuses_old_v2():
    runner, dummy = fake_runner({"docker compose version": (0, "Docker Compose version v2.26.1\n", "")})
    compose = Compose(runner, "/tmp", [], [], [], None, {})
    assert compose.detect() == (2, 26, 1) and compose.base == ["docker", "compose"]
    runner, dummy = fake_runner({"docker compose version": (0, "Docker Compose version v2.10.0\n", "")})
    with pytest.raises(ComposeError, match="2.18.0 or later is needed"):
        Compose(runner, "/tmp", [], [], [], None, {}).detect()


def test_start_first_problems_names_what_cannot_run_twice():
    services = {
        "web": {"image": "app:1", "network_mode": "host"},
        "db": {"image": "pg", "container_name": "fixed-db"},
        "api": {"image": "app:1", "ports": [{"target": 8000, "published": "18000", "protocol": "tcp"}]},
        "ephemeral": {"image": "app:1", "ports": [{"target": 8000, "published": "", "protocol": "tcp"}]},
    }
    assert start_first_problems(services, ["web", "ephemeral"]) == []
    assert start_first_problems(services, ["db", "api"]) == [
        "db sets container_name fixed-db",
        "api publishes fixed host port(s) 18000",
    ]


def test_up_start_first_keeps_running_containers_and_scales():
    seen = []

    def runner(argv, cwd, env):
        seen.append(argv)
        return 0, "", ""

    compose = Compose(runner, "/srv/app", ["compose.yaml"], [], [], "app", {}, compose_command=["docker", "compose"])
    compose.up(["web", "worker"], "/tmp/override.json", scale={"web": 2, "worker": 4}, no_recreate=True)
    argv = seen[-1]
    assert argv[argv.index("up") :] == [
        "up",
        "-d",
        "--no-deps",
        "--pull",
        "never",
        "--no-build",
        "--no-recreate",
        "--scale",
        "web=2",
        "--scale",
        "worker=4",
        "web",
        "worker",
    ]
    compose.remove_containers(["abc", "def"])
    assert seen[-2:] == [["docker", "container", "stop", "abc", "def"], ["docker", "container", "rm", "abc", "def"]]


def test_project_containers_listed_by_the_project_label_once_the_name_is_known():
    ls = "docker container ls --all --quiet --no-trunc --filter label=com.docker.compose.project=app"
    ps = "docker compose --ansi never --project-directory /srv/app -f compose.yaml ps --all --format json"
    runner, calls = fake_runner({ls: (0, "aaa\nbbb\n", ""), ps: (0, '{"ID": "ccc"}\n', "")})
    compose = Compose(runner, "/srv/app", ["compose.yaml"], [], [], None, {}, compose_command=["docker", "compose"])
    # Before `compose config` named the project: Compose itself.
    assert compose.project_container_ids() == ["ccc"]
    compose.project_name = "app"
    assert compose.project_container_ids() == ["aaa", "bbb"]
    assert [" ".join(c) for c in calls] == [ps, ls]
    with pytest.raises(ComposeError, match="docker container ls failed"):
        Compose(fake_runner({})[0], "/srv/app", [], [], [], "other", {}).project_container_ids()
