"""Review: a name with a trailing newline must never pass the Dokku argument validators.

Python's ``$`` also matches just before a final ``\\n``, so ``^[a-z0-9]...$``
accepted ``"blog\\n"``: a name Dokku would store verbatim (a directory, an ENV
line, an nginx server name) while every rule in DESIGN §4 says it is invalid.
"""

from __future__ import annotations

import pytest

from pruvon_core.dokku import validate
from pruvon_core.dokku.errors import InvalidName, InvalidValue

TRAILING = ["\n", "\r\n", "\n\n"]


@pytest.mark.parametrize("tail", TRAILING)
@pytest.mark.parametrize(
    ("check", "good"),
    [
        (validate.app_name, "blog"),
        (lambda n: validate.app_name(n, existing=False), "blog"),
        (validate.service_name, "blog-db"),
        (validate.service_type, "postgres"),
        (validate.env_key, "DATABASE_URL"),
        (validate.process_type, "web"),
        (validate.dyno, "web.1"),
        (validate.domain, "example.com"),
        (validate.image, "nginx:1.27"),
    ],
)
def test_trailing_newline_is_refused(check, good, tail):
    assert check(good)  # the clean name passes
    with pytest.raises((InvalidName, InvalidValue)):
        check(good + tail)


def test_volume_name_with_trailing_newline_is_refused():
    assert validate.mount("data", "/data") == "data:/data"
    with pytest.raises(InvalidValue):
        validate.mount("data\n", "/data")


@pytest.mark.parametrize("value", ["\u00b2", "8\u00b2", "\uff18\uff10"])
def test_port_with_non_ascii_digits_is_a_clear_invalid_value(value):
    # '²'.isdigit() is True but int('²') raises; fullwidth digits are not a port either
    with pytest.raises(InvalidValue, match="port number"):
        validate.port(value, "host port")


@pytest.mark.parametrize("ref", ["main\n", "v1.0\n", "feature/x\r\n"])
def test_git_ref_with_trailing_newline_is_refused(ref):
    assert validate.git_ref(ref.rstrip())
    with pytest.raises(InvalidValue):
        validate.git_ref(ref)
