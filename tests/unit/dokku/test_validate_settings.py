"""Validation of git:sync arguments, nginx/resource settings and docker options."""

from __future__ import annotations

import pytest

from pruvon_core.dokku import docker_policy, validate
from pruvon_core.dokku.errors import InvalidValue


@pytest.mark.parametrize("url", [
    "https://github.com/dokku/smoke-test-app.git", "ssh://git@example.com/x.git",
    "git://example.com/x.git", "file:///srv/repos/x", "git@github.com:dokku/x.git",
    "https://token@example.com/x.git",
])
def test_git_repo_accepts_the_four_schemes_and_scp_form(url: str) -> None:
    assert validate.git_repo(url) == url


@pytest.mark.parametrize(("url", "words"), [
    ("", "empty"), ("-uhttps://x", "starts with '-'"), ("https://a b", "without spaces"),
    ("http://example.com/x.git", "https://"), ("ext::sh -c touch% /tmp/x", "spaces"),
    ("ext::sh", "https://"), ("/srv/repo", "https://"), ("ftp://x/y", "https://"),
    ("https://user:secret@example.com/x.git", "git:auth"), ("https://x\n", "spaces"),
])
def test_git_repo_refuses(url: str, words: str) -> None:
    with pytest.raises(InvalidValue, match=words.replace("(", r"\(")) as caught:
        validate.git_repo(url)
    assert "git repository" in caught.value.message


@pytest.mark.parametrize("ref", ["main", "v1.2.3", "feature/x-y", "a" * 40, "release_2"])
def test_git_ref_accepts(ref: str) -> None:
    assert validate.git_ref(ref) == ref


@pytest.mark.parametrize("ref", ["", "-b", "a..b", "a b", "x~1", "x^", "a:b", "x.lock", "/x",
                                 "x/", ".hidden", "a/.b", "@", "a@{1}", "x*", "a//b", "x\\y"])
def test_git_ref_refuses(ref: str) -> None:
    with pytest.raises(InvalidValue, match="git ref"):
        validate.git_ref(ref)


def test_nginx_setting_allowlist_and_value_forms() -> None:
    assert validate.nginx_setting("client-max-body-size", "50m") == ("client-max-body-size", "50m")
    assert validate.nginx_setting("hsts", "false") == ("hsts", "false")
    assert validate.nginx_setting("proxy-read-timeout", "") == ("proxy-read-timeout", "")
    with pytest.raises(InvalidValue, match="cannot be changed here"):
        validate.nginx_setting("nginx-service-command", "rm -rf /")
    with pytest.raises(InvalidValue, match="proxy-read-timeout must be a time"):
        validate.nginx_setting("proxy-read-timeout", "60s; evil")
    with pytest.raises(InvalidValue, match="hsts must be true or false"):
        validate.nginx_setting("hsts", "yes")


def test_resources() -> None:
    assert validate.resources("limit", {"cpu": "0.5", "memory": "512m"}) == [
        "--cpu", "0.5", "--memory", "512m"]
    with pytest.raises(InvalidValue, match="memory must be a size"):
        validate.resources("limit", {"memory": "lots"})
    with pytest.raises(InvalidValue, match="unknown resource 'pids'"):
        validate.resources("reserve", {"pids": "5"})
    with pytest.raises(InvalidValue, match="at least one"):
        validate.resources("limit", {})
    with pytest.raises(InvalidValue, match="kind"):
        validate.resources("max", {"cpu": "1"})


def test_docker_phases() -> None:
    assert validate.docker_phases(["deploy", "run", "deploy"]) == "deploy,run"
    with pytest.raises(InvalidValue, match="phases"):
        validate.docker_phases(["release"])
    with pytest.raises(InvalidValue, match="phases"):
        validate.docker_phases([])


@pytest.mark.parametrize(("option", "expected"), [
    ("--restart=always", "--restart=always"), ("-v data:/data", "-v data:/data"),
    ("--add-host db:10.0.0.2", "--add-host db:10.0.0.2"),
    ("-v /var/lib/dokku/data/storage/x:/x", "-v /var/lib/dokku/data/storage/x:/x"),
    ("--network=bridge", "--network=bridge"), ("--shm-size 256m", "--shm-size 256m"),
])
def test_docker_option_allowed(option: str, expected: str) -> None:
    assert docker_policy.docker_option(option) == expected


@pytest.mark.parametrize(("option", "words"), [
    ("--privileged", "every capability"), ("--privileged=true", "every capability"),
    ("--cap-add SYS_ADMIN", "capabilities"), ("--cap-add=ALL", "capabilities"),
    ("--pid=host", "namespace"), ("--pid host", "namespace"), ("--network=host", "namespace"),
    ("--net host", "namespace"), ("--ipc=host", "namespace"), ("--uts=host", "namespace"),
    ("--network=container:db", "namespace"),
    ("-v /:/host", "inside /var/lib/dokku"), ("-v/:/host", "inside /var/lib/dokku"),
    ("--volume=/etc:/etc", "inside"), ("-v /var/run/docker.sock:/s", "inside"),
    ("-v /var/lib/dokku/data/storage/../../../..:/x", "inside"), ("-v ./x:/x", "inside"),
    ("--mount type=bind,source=/,target=/h", "inside"),
    ("--security-opt seccomp=unconfined", "seccomp"), ("--device /dev/sda", "devices"),
    ("--env-file /etc/shadow", "reads a file"), ("--userns=host", "user-namespace"),
    ("restart=always", "one docker option"), ("-v a:/a -v b:/b", "one docker option"),
    ("--restart always\n--privileged", "one line"), ("", "empty"), ("'", "cannot be parsed"),
])
def test_docker_option_refused(option: str, words: str) -> None:
    with pytest.raises(InvalidValue, match=words):
        docker_policy.docker_option(option)
