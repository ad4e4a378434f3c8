"""Every typed error, classified from the exact output real Dokku gave."""

from __future__ import annotations

import pytest

from pruvon_core.dokku import errors
from pruvon_testing.reference import load_cases

CASES = {case.name: case for case in load_cases()}


def classify_case(name: str) -> errors.DokkuError:
    case = CASES[name]
    return errors.classify(case.argv, case.exit_code, case.stdout.decode(), case.stderr.decode())


@pytest.mark.parametrize(
    ("case", "kind", "message"),
    [
        ("apps-exists-no", errors.AppNotFound, "App ref-nope does not exist"),
        ("config-get-missing-app", errors.AppNotFound, "App ref-nope does not exist"),
        # ps:restart prints it on STDOUT, still exit 20
        ("ps-restart-missing-app", errors.AppNotFound, "App ref-nope does not exist"),
        ("pg-link-missing-app", errors.AppNotFound, "App svc-noapp does not exist"),
        ("pg-info-missing", errors.ServiceNotFound, "Postgres service svc-nope does not exist"),
        ("pg-export-missing", errors.ServiceNotFound, "Postgres service svc-nope does not exist"),
        ("redis-destroy-missing", errors.ServiceNotFound, None),
        ("apps-create-taken", errors.NameTaken, "Name is already taken"),
        ("apps-rename-target-exists", errors.NameTaken, "Name is already taken"),
        ("pg-create-exists", errors.NameTaken, "Postgres service svc-db already exists"),
        ("apps-create-invalid-underscore", errors.InvalidName, None),
        ("apps-create-invalid-semicolon", errors.InvalidName, None),
        ("pg-create-invalid-space", errors.InvalidName, None),
        ("logs-never-deployed", errors.NotDeployed, "App ref-empty has not been deployed"),
        ("enter-never-deployed", errors.NotDeployed, "App ref-empty has not been deployed"),
        ("pg-link-again", errors.AlreadyLinked, "Already linked as DATABASE_URL"),
        ("pg-unlink-again", errors.AlreadyLinked, "Not linked to app svc-app"),
        ("pg-destroy-linked", errors.ServiceLinked, "Cannot delete linked service"),
        ("nope-cmd", errors.UnknownCommand, None),
        ("pg-unknown-subcommand", errors.UnknownCommand, None),
        ("apps-create-invalid-dash", errors.InvalidValue, "unknown shorthand flag: 'x' in -x"),
    ],
)
def test_reference_failures_map_to_typed_errors(case, kind, message):
    error = classify_case(case)
    assert type(error) is kind
    assert error.exit_code == CASES[case].exit_code
    assert error.argv == CASES[case].argv
    if message is not None:
        assert error.message == message
    assert not error.message.startswith(" !")


def test_generic_failure_keeps_all_dokku_lines():
    error = classify_case("run-never-deployed")
    assert type(error) is errors.DokkuError
    assert error.message.splitlines()[0] == "App image (dokku/ref-empty:latest) not found"
    assert "Successfully deploy your app to fix dokku run calls" in error.message


def test_silent_failure_gets_a_message():
    error = classify_case("config-get-missing")
    assert (
        type(error) is errors.DokkuError and error.message == "config:get failed with exit code 1"
    )


def test_unknown_command_lists_both_lines():
    assert classify_case("nope-cmd").message.splitlines() == [
        "`nope:cmd` is not a dokku command.",
        "See `dokku help` for a list of available commands.",
    ]


@pytest.mark.parametrize(
    "stderr",
    [
        "sudo: a password is required\n",
        "sudo: a terminal is required to read the password; either use the -S option\n",
        "Sorry, user pruvon is not allowed to execute '/usr/bin/dokku apps:list' as dokku on vm.\n"
        "sudo: pruvon is not in the sudoers file.\n",
    ],
)
def test_sudo_refused_is_unavailable_with_a_hint(stderr):
    error = errors.classify(["apps:list"], 1, "", stderr)
    assert isinstance(error, errors.DokkuUnavailable)
    assert "sudoers" in error.hint and error.hint in str(error)


@pytest.mark.parametrize("code", [1, 127])
def test_missing_dokku_is_unavailable_with_install_hint(code):
    error = errors.classify(["apps:list"], code, "", "sudo: dokku: command not found\n")
    assert isinstance(error, errors.DokkuUnavailable) and "install Dokku" in error.hint


def test_invalid_name_and_value_are_value_errors():
    assert issubclass(errors.InvalidName, ValueError)
    assert issubclass(errors.InvalidValue, ValueError)
    assert issubclass(errors.DokkuTimeout, errors.DokkuError)


def test_ansi_coloured_warning_lines_are_read():
    text = "\x1b[1m\x1b[31m !     \x1b[0m\x1b[0mApp x has not been deployed\n"
    assert errors.dokku_messages(text) == ["App x has not been deployed"]
