"""Validation of git:sync arguments, nginx/resource settings and docker options."""

from __future__ import annotations

import re

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


SCOPE = docker_policy.Scope("shop")


@pytest.mark.parametrize(("option", "expected"), [
    ("--restart=always", "--restart=always"), ("-v shop_db:/data", "-v shop_db:/data"),
    ("--add-host db:10.0.0.2", "--add-host db:10.0.0.2"),
    ("-v /var/lib/dokku/data/storage/shop:/x", "-v /var/lib/dokku/data/storage/shop:/x"),
    ("--shm-size 256m", "--shm-size 256m"), ("--label 'a=b c'", "--label 'a=b c'"),
])
def test_docker_option_allowed_for_scoped_users(option: str, expected: str) -> None:
    assert docker_policy.docker_option(option) == expected
    assert docker_policy.scoped_refusal(option, SCOPE) is None


@pytest.mark.parametrize(("option", "words"), [
    ("--privileged", "not on the allowlist"), ("--privileged=true", "not on the allowlist"),
    ("--cap-add SYS_ADMIN", "--cap-add is not"), ("--pid=host", "--pid is not"),
    ("--network=host", "--network is not"), ("--net host", "--net is not"),
    ("-v /:/host", "not this app's storage"), ("-v/:/host", "not this app's storage"),
    ("--volume=/etc:/etc", "not this app's"), ("-v /var/run/docker.sock:/s", "not this app's"),
    ("-v /var/lib/dokku/data/storage/../../../..:/x", "'..'"), ("-v ./x:/x", "volume name"),
    ("--mount type=bind,source=/,target=/h", "not this app's"),
    ("--security-opt seccomp=unconfined", "no-new-privileges"), ("--device /dev/sda", "--device"),
    ("--env-file /etc/shadow", "--env-file"), ("--userns=host", "--userns"),
])
def test_docker_option_refused_for_scoped_users(option: str, words: str) -> None:
    docker_policy.docker_option(option)  # an admin may store it
    assert words in (docker_policy.scoped_refusal(option, SCOPE) or "")


@pytest.mark.parametrize(("option", "words"), [
    ("restart=always", "one docker option"), ("-v a:/a -v b:/b", "one docker option"),
    ("--restart always\n--privileged", "one line"), ("", "empty"), ("'", "unbalanced"),
    ("--label $(id)", "'$'"), ("--label a;id", "';'"),
])
def test_docker_option_refused_for_everyone(option: str, words: str) -> None:
    with pytest.raises(InvalidValue, match=re.escape(words)):
        docker_policy.docker_option(option)
