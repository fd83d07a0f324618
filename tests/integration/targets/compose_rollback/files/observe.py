"""What a user sees of the crtest project, as one JSON document on stdout.

    observe.py PROJECT APP_PORT SIDECAR_PORT

Per service (app, sidecar): the container id, the image id it runs, its health status (from
docker container inspect), the HTTP status and version its /health answers; the number of
containers of the project (docker ps --all); the marker file in the named volume (read in the
app container). DOCKER_HOST comes from the environment.
"""

import json
import subprocess
import sys
import urllib.error
import urllib.request

project, app_port, sidecar_port = sys.argv[1], sys.argv[2], sys.argv[3]


def docker(*args):
    return subprocess.run(["docker"] + list(args), capture_output=True, text=True, check=True).stdout


def http(port):
    try:
        with urllib.request.urlopen("http://127.0.0.1:%s/health" % port, timeout=5) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def service_container(service):
    """The service's container, by Compose's labels (a start-first change leaves app-2, app-3...)."""
    ids = docker(
        "ps",
        "--all",
        "--quiet",
        "--filter",
        "label=com.docker.compose.project=%s" % project,
        "--filter",
        "label=com.docker.compose.service=%s" % service,
    ).split()
    return ids[0] if ids else "%s-%s-missing" % (project, service)


names = {"app": service_container("app"), "sidecar": service_container("sidecar")}
inspected = json.loads(docker("container", "inspect", names["app"], names["sidecar"]))
result = {}
for service, container in zip(("app", "sidecar"), inspected):
    status, body = http(app_port if service == "app" else sidecar_port)
    result[service] = {
        "id": container["Id"],
        "image": container["Image"],
        "reference": container["Config"]["Image"],
        "health": ((container["State"].get("Health") or {}).get("Status")) or "none",
        "http_status": status,
        "version": body.get("version"),
    }
result["containers"] = len(
    docker("ps", "--all", "--quiet", "--filter", "label=com.docker.compose.project=%s" % project).split()
)
result["marker"] = docker("exec", names["app"], "cat", "/data/marker").strip()
json.dump(result, sys.stdout)
