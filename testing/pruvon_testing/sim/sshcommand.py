"""Dokku's ssh forced-command entry: re-splitting ``$SSH_ORIGINAL_COMMAND``.

A Dokku host's ``authorized_keys`` runs ``dokku $SSH_ORIGINAL_COMMAND`` for
every key (sshcommand's forced command).  Dokku's main script (0.38) then
unexports the variable and re-splits the original command string itself: a
command word matching ``git-*``/``git:*`` (bash regexes) is word-split with
globbing off and no quote removal; everything else goes through
``printf '%s' "$SSH_ORIGINAL_COMMAND" | xargs -n 1`` read back one word per
line.  The simulator does the same, with the real ``xargs``, so a client that
quotes wrongly fails here as it would on a real host.
"""

from __future__ import annotations

import re
import subprocess


def is_git(word: str) -> bool:
    """Dokku's ``[[ $1 =~ git-* ]] || [[ $1 =~ git:* ]]``: both mean "contains git"."""
    return bool(re.search(r"git-*", word) or re.search(r"git:*", word))


def resplit(first: str, original: str) -> list[str] | None:
    """The argv Dokku re-executes itself with; ``None`` when xargs refused the string."""
    if is_git(first):
        return original.split()
    done = subprocess.run(["xargs", "-n", "1"], input=original.encode(), capture_output=True,
                          check=False)
    if done.returncode != 0:
        return None
    text = done.stdout.decode(errors="surrogateescape")
    return text.split("\n")[:-1] if text else []
