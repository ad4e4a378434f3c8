"""Review: a TOTP code in non-ASCII digits is refused, not a crash.

``\\d`` matches any Unicode digit, so ``"١٢٣٤٥٦"`` passed the code pattern
and reached ``hmac.compare_digest``, which raises ``TypeError`` for non-ASCII
strings: the sign-in step answered 500 instead of "not valid".
"""

from __future__ import annotations

import pytest
from pruvon_auth.totp import TotpError, TotpStore

from tests.unit.auth.test_totp import enrol

ARABIC_INDIC = "\u0661\u0662\u0663\u0664\u0665\u0666"
FULLWIDTH = "\uff11\uff12\uff13\uff14\uff15\uff16"


@pytest.fixture
def store(tmp_path, clock):
    return TotpStore(tmp_path, clock=clock)


@pytest.mark.parametrize("code", [ARABIC_INDIC, FULLWIDTH])
def test_verify_refuses_non_ascii_digits(store, clock, code):
    enrol(store, clock)
    assert store.verify("alice", code) is False


@pytest.mark.parametrize("code", [ARABIC_INDIC, FULLWIDTH])
def test_confirm_refuses_non_ascii_digits(store, code):
    store.begin("alice")
    with pytest.raises(TotpError, match="not valid"):
        store.confirm("alice", code)
