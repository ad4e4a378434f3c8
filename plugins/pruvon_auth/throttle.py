"""Login throttling: exponential backoff per IP and per user, without a global lock-out.

Three counters are kept, each with a number of free failures after which every
further failure doubles the wait (1 s, 2 s, 4 s … capped at 15 minutes):

``ip``        failures from one source (IPv6 grouped by /64, since one
              attacker holds a whole /64).  Slows one machine guessing many
              usernames.  Free: 10.
``user+ip``   failures for one username from one source.  Slows guessing one
              account from one place.  Free: 5.
``user``      failures for one username from anywhere.  Slows a distributed
              guess (a botnet) at one account.  Free: 20.  It is NOT applied to
              a source from which that user logged in successfully in the last
              30 days ("known-good"): a botnet can slow down unknown sources
              for ``admin``, never the admin's own usual address.

So an attacker can only ever delay (a) themselves, (b) other people behind the
same IP, and (c) logins for the targeted username from addresses it never used
before; there is no state in which everybody is locked out.

A success clears only the ``user+ip`` counter: clearing the per-IP counter
would let an attacker with one valid account reset their budget between
guesses at other accounts.  Counters are forgotten after an hour without
failures.  TOTP failures are charged like password failures.

State lives in ``<state_dir>/throttle.db`` (SQLite, mode 0600), shared by every
worker process.  Two ways to use it:

* ``retry_after`` → verify → ``failure`` or ``success`` (the contract), or
* ``attempt`` (check *and* charge atomically, before bcrypt runs, so parallel
  guesses cannot slip through between the check and the charge) → verify →
  on a correct secret ``refund`` (then ``success`` once the login is complete);
  never ``failure`` as well.  The web login uses this one.
"""

from __future__ import annotations

import ipaddress
import os
import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

DB_FILE = "throttle.db"
KNOWN_GOOD_SECONDS = 30 * 86400


@dataclass(frozen=True)
class Rule:
    """Backoff for one counter: ``free`` failures, then ``base * 2**(n - free)`` seconds."""

    free: int
    base: float = 1.0
    cap: float = 900.0
    forget_after: float = 3600.0

    def delay(self, failures: int) -> float:
        if failures < self.free:
            return 0.0
        return min(self.cap, self.base * 2.0 ** min(failures - self.free, 30))


@dataclass(frozen=True)
class ThrottlePolicy:
    per_ip: Rule = Rule(free=10)
    per_user_ip: Rule = Rule(free=5)
    per_user: Rule = Rule(free=20)


def ip_key(ip: str | None) -> str:
    """Normalise a source address; IPv6 is grouped by its /64 network."""
    if not ip:
        return "unknown"
    try:
        address = ipaddress.ip_address(ip.strip())
    except ValueError:
        return "invalid:" + ip[:64]
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped:
            return str(address.ipv4_mapped)
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return str(address)


def user_key(username: str | None) -> str:
    """Usernames are case-folded and bounded so variants share one counter."""
    return (username or "").strip().casefold()[:128]


class LoginThrottle:
    """Persistent login throttle shared by all workers (see the module docstring)."""

    def __init__(
        self,
        state_dir: str | os.PathLike[str],
        policy: ThrottlePolicy | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.path = Path(state_dir) / DB_FILE
        self.policy = policy or ThrottlePolicy()
        self.clock = clock
        self._init_db()

    # -- storage ---------------------------------------------------------------
    def _init_db(self) -> None:
        self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        os.close(fd)
        with self._db() as db:
            db.execute(
                "CREATE TABLE IF NOT EXISTS counters ("
                "key TEXT PRIMARY KEY, failures INTEGER NOT NULL, last REAL NOT NULL)"
            )
            db.execute(
                "CREATE TABLE IF NOT EXISTS known_good ("
                "user TEXT NOT NULL, ip TEXT NOT NULL, last REAL NOT NULL, PRIMARY KEY (user, ip))"
            )

    @contextmanager
    def _db(self) -> Iterator[sqlite3.Connection]:
        """One short write transaction (``BEGIN IMMEDIATE``: check-and-charge is atomic)."""
        db = sqlite3.connect(self.path, timeout=10, isolation_level=None)
        try:
            db.execute("BEGIN IMMEDIATE")
            try:
                yield db
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")
        finally:
            db.close()

    def _keys(self, ip: str | None, username: str | None) -> dict[str, tuple[str, Rule]]:
        addr, user = ip_key(ip), user_key(username)
        return {
            "ip": (f"ip|{addr}", self.policy.per_ip),
            "user_ip": (f"uip|{user}|{addr}", self.policy.per_user_ip),
            "user": (f"u|{user}", self.policy.per_user),
        }

    def _known_good(self, db: sqlite3.Connection, ip: str | None, username: str | None) -> bool:
        row = db.execute(
            "SELECT last FROM known_good WHERE user = ? AND ip = ?",
            (user_key(username), ip_key(ip)),
        ).fetchone()
        return row is not None and self.clock() - row[0] < KNOWN_GOOD_SECONDS

    def _wait(self, db: sqlite3.Connection, ip: str | None, username: str | None) -> float:
        now = self.clock()
        known_good = self._known_good(db, ip, username)
        wait = 0.0
        for name, (key, rule) in self._keys(ip, username).items():
            if name == "user" and known_good:
                continue
            row = db.execute("SELECT failures, last FROM counters WHERE key = ?", (key,)).fetchone()
            if row is None or now - row[1] > rule.forget_after:
                continue
            wait = max(wait, row[1] + rule.delay(row[0]) - now)
        return max(0.0, wait)

    def _charge(self, db: sqlite3.Connection, ip: str | None, username: str | None) -> None:
        now = self.clock()
        for key, rule in self._keys(ip, username).values():
            row = db.execute("SELECT failures, last FROM counters WHERE key = ?", (key,)).fetchone()
            failures = 1 if row is None or now - row[1] > rule.forget_after else row[0] + 1
            db.execute(
                "INSERT OR REPLACE INTO counters (key, failures, last) VALUES (?, ?, ?)",
                (key, failures, now),
            )
        forget = max(
            self.policy.per_ip.forget_after,
            self.policy.per_user_ip.forget_after,
            self.policy.per_user.forget_after,
        )
        db.execute("DELETE FROM counters WHERE last < ?", (now - forget,))
        db.execute("DELETE FROM known_good WHERE last < ?", (now - KNOWN_GOOD_SECONDS,))

    # -- API -------------------------------------------------------------------
    def retry_after(self, ip: str | None, username: str | None) -> float:
        """Seconds until this (IP, username) may try again; 0 means allowed now."""
        with self._db() as db:
            return self._wait(db, ip, username)

    def failure(self, ip: str | None, username: str | None) -> None:
        """Charge one failed attempt (wrong password, unknown user, wrong TOTP code)."""
        with self._db() as db:
            self._charge(db, ip, username)

    def attempt(self, ip: str | None, username: str | None) -> float:
        """Atomically: if throttled return the wait, else charge one failure and return 0.

        Call before verifying the password; on success call :meth:`success`,
        which clears this user's counter for this source.
        """
        with self._db() as db:
            wait = self._wait(db, ip, username)
            if wait <= 0:
                self._charge(db, ip, username)
            return wait

    def refund(self, ip: str | None, username: str | None) -> None:
        """Undo the charge of one :meth:`attempt` whose secret turned out right.

        A correct password (or code) must not count as a failure, or a busy
        office behind one address would throttle itself by signing in.
        """
        now = self.clock()
        with self._db() as db:
            for key, rule in self._keys(ip, username).values():
                row = db.execute(
                    "SELECT failures, last FROM counters WHERE key = ?", (key,)
                ).fetchone()
                if row is None or now - row[1] > rule.forget_after:
                    continue
                if row[0] <= 1:
                    db.execute("DELETE FROM counters WHERE key = ?", (key,))
                else:
                    db.execute("UPDATE counters SET failures = ? WHERE key = ?", (row[0] - 1, key))

    def success(self, ip: str | None, username: str | None) -> None:
        """A correct login: clear the ``user+ip`` counter and mark the source known-good."""
        keys = self._keys(ip, username)
        with self._db() as db:
            db.execute("DELETE FROM counters WHERE key = ?", (keys["user_ip"][0],))
            db.execute(
                "INSERT OR REPLACE INTO known_good (user, ip, last) VALUES (?, ?, ?)",
                (user_key(username), ip_key(ip), self.clock()),
            )

    def failures(self, ip: str | None, username: str | None) -> dict[str, int]:
        """Current counts per counter (for the audit log and tests)."""
        now = self.clock()
        counts: dict[str, int] = {}
        with self._db() as db:
            for name, (key, rule) in self._keys(ip, username).items():
                row = db.execute(
                    "SELECT failures, last FROM counters WHERE key = ?", (key,)
                ).fetchone()
                counts[name] = 0 if row is None or now - row[1] > rule.forget_after else row[0]
        return counts
