"""Argument validation: what is accepted, what is refused, and the messages."""

from __future__ import annotations

import pytest

from pruvon_core.dokku import validate
from pruvon_core.dokku.errors import InvalidName, InvalidValue


@pytest.mark.parametrize("name", ["web", "a", "0app", "my-app.v2", "a..b"])
def test_new_app_names_accepted(name):
    assert validate.app_name(name, existing=False) == name


@pytest.mark.parametrize(
    "name", ["Bad_Name", "UPPER", "a;id", "-x", ".hidden", "a/b", "a b", "", "é"]
)
def test_new_app_names_refused(name):
    with pytest.raises(InvalidName):
        validate.app_name(name, existing=False)


def test_existing_apps_may_contain_underscore_but_not_start_with_it():
    assert validate.app_name("legacy_app") == "legacy_app"
    with pytest.raises(InvalidName):
        validate.app_name("_legacy")


def test_leading_dash_message_says_why():
    with pytest.raises(InvalidName, match="read as an option"):
        validate.service_name("-x")  # the real postgres plugin would create it


def test_non_strings_are_refused():
    with pytest.raises(InvalidValue, match="must be a string"):
        validate.app_name(None)
    with pytest.raises(InvalidValue):
        validate.scale_count("web", True)
    with pytest.raises(InvalidValue):
        validate.port(0, "host port")
    assert validate.port("80", "host port") == 80


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        ("Example.COM", "example.com"),
        ("*.apps.example.com", "*.apps.example.com"),
        ("a-1.b", "a-1.b"),
    ],
)
def test_domains_accepted_and_lowercased(given, stored):
    assert validate.domain(given) == stored


@pytest.mark.parametrize(
    "name",
    ["-x.com", "a..b", "bad domain", "a.-b.com", "a-.com", "*", "a.*.com", "x" * 64 + ".com", ""],
)
def test_domains_refused(name):
    with pytest.raises((InvalidName, InvalidValue)):
        validate.domain(name)


def test_domain_length_limit():
    label = "a" * 63
    long_name = ".".join([label] * 4)  # 255 characters
    with pytest.raises(InvalidName, match="253"):
        validate.domain(long_name)
    assert validate.domain(long_name[:253].rstrip(".")) == long_name[:253].rstrip(".")


def test_env_keys_and_values():
    assert validate.env_key("_OK_1") == "_OK_1"
    for key in ("1BAD", "BAD-KEY", "A B", "-A"):
        with pytest.raises(InvalidName):
            validate.env_key(key)
    assert validate.env_value("K", 'say "hi" ') == 'say "hi" '
    with pytest.raises(InvalidValue, match="corrupted"):
        validate.env_value("K", 'say "hi"')
    with pytest.raises(InvalidValue, match="NUL"):
        validate.env_value("K", "a\x00b")
    with pytest.raises(InvalidValue, match="KiB"):
        validate.env_value("K", "x" * (validate.MAX_VALUE + 1))


def test_port_mappings():
    assert validate.port_mapping("https", "443", 5000) == "https:443:5000"
    with pytest.raises(InvalidValue, match="scheme"):
        validate.port_mapping("ftp", 21, 5000)  # Dokku accepts it silently
    with pytest.raises(InvalidValue, match="1 to 65535"):
        validate.port_mapping("http", 70000, 5000)


def test_scale_counts():
    assert validate.scale_count("web", 0) == 0
    with pytest.raises(InvalidValue, match="between 0"):
        validate.scale_count("web", -1)


def test_storage_mounts():
    assert (
        validate.mount("/var/lib/dokku/data/storage/a", "/data")
        == "/var/lib/dokku/data/storage/a:/data"
    )
    assert validate.mount("my-volume", "/data") == "my-volume:/data"
    for host, container in (
        ("relative/path", "/data"),
        ("/a/../etc", "/data"),
        ("/a", "data"),
        ("/a,b", "/c"),
    ):
        with pytest.raises(InvalidValue):
            validate.mount(host, container)


def test_dyno_and_process_type_and_image():
    assert validate.dyno("web.2") == "web.2"
    with pytest.raises(InvalidName):
        validate.dyno("web")
    assert validate.image("registry.example.com:5000/team/web@sha256:abc").startswith("registry")
    with pytest.raises(InvalidName):
        validate.image("a/../b")


def test_commands_and_counts():
    assert validate.command(["ls", "-la"]) == ["ls", "-la"]
    with pytest.raises(InvalidValue, match="no command"):
        validate.command([])
    with pytest.raises(InvalidValue):
        validate.count(0, "lines", 10)
