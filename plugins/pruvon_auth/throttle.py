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
worker process.

A full disk (or any "database or disk is full") must neither lock everybody
out nor hand an attacker unlimited guesses.  So the throttle *fails safe*:
what the database holds is still read and enforced, and every change it
cannot record (a charge, a refund, a success) is kept as a delta in this
process's memory and added to the database's counts on every check.  An
attacker gains at most the per-worker budget (the same free failures and
backoff, once per gunicorn worker) while the disk is full; legitimate users
sign in as usual.  Deltas are forgotten like the counters (an hour).  Two ways to use it:

* ``retry_after`` → verify → ``failure`` or ``success`` (the contract), or
* ``attempt`` (check *and* charge atomically, before bcrypt runs, so parallel
  guesses cannot slip through between the check and the charge) → verify →
  on a correct secret ``refund`` (then ``success`` once the login is complete);
  never ``failure`` as well.  The web login uses this one.
"""

from __future__ import annotations

import ipaddress
import logging
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from pruvon_core.files import FILE_MODE, as_disk_full, open_private, private_dir

log = logging.getLogger("pruvon.auth")

DB_FILE = "throttle.db"
MAX_UNRECORDED = 10_000
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


class Unrecorded:
    """Counter changes the database could not store (full disk), per process.

    ``key -> [delta, last]``: ``delta`` is added to the stored failure count
    (negative for a refund or a success), ``last`` is the time of the change.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._deltas: dict[str, list[float]] = {}

    def get(self, key: str, now: float, forget_after: float) -> tuple[int, float]:
        with self._lock:
            delta, last = self._deltas.get(key, (0, 0.0))
        return (int(delta), last) if now - last <= forget_after else (0, 0.0)

    def add(self, key: str, delta: int, now: float) -> None:
        with self._lock:
            entry = self._deltas.setdefault(key, [0, now])
            entry[0] += delta
            entry[1] = now
            if len(self._deltas) > MAX_UNRECORDED:  # bounded memory: drop the oldest
                oldest = min(self._deltas, key=lambda k: self._deltas[k][1])
                del self._deltas[oldest]


_UNRECORDED: dict[Path, Unrecorded] = {}
_UNRECORDED_LOCK = threading.Lock()


def _unrecorded(path: Path) -> Unrecorded:
    with _UNRECORDED_LOCK:
        return _UNRECORDED.setdefault(path, Unrecorded())


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
        self.memory = _unrecorded(self.path)
        self._init_db()

    # -- storage ---------------------------------------------------------------
    def _init_db(self) -> None:
        private_dir(self.path.parent)
        os.close(open_private(self.path))
        for suffix in ("-journal", "-wal", "-shm"):  # SQLite's side files, if any
            side = self.path.with_name(self.path.name + suffix)
            if side.exists() and side.stat().st_mode & 0o777 != FILE_MODE:
                os.chmod(side, FILE_MODE)
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
                if db.in_transaction:  # SQLite already rolled back after "disk is full"
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
            failures, last = self._count(db, key, rule, now)
            if failures > 0:
                wait = max(wait, last + rule.delay(failures) - now)
        return max(0.0, wait)

    def _count(self, db: sqlite3.Connection, key: str, rule: Rule, now: float) -> tuple[int, float]:
        """Failures of ``key`` (stored plus this process's unrecorded delta) and the last time."""
        row = db.execute("SELECT failures, last FROM counters WHERE key = ?", (key,)).fetchone()
        stored, stored_last = (0, 0.0) if row is None or now - row[1] > rule.forget_after else row
        delta, delta_last = self.memory.get(key, now, rule.forget_after)
        return max(0, stored + delta), max(stored_last, delta_last)

    def _degraded(self, exc: BaseException, what: str) -> None:
        """Re-raise unless ``exc`` is a full disk; then log that ``what`` stays in memory."""
        full = as_disk_full(exc, self.path)
        if full is None:
            raise exc
        log.warning("login throttle: %s; %s kept in this process's memory", full, what)

    def _remember(self, ip: str | None, username: str | None, delta: int,
                  only: str | None = None) -> None:
        now = self.clock()
        for name, (key, _rule) in self._keys(ip, username).items():
            if only is None or name == only:
                self.memory.add(key, delta, now)

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
        try:
            with self._db() as db:
                self._charge(db, ip, username)
        except sqlite3.OperationalError as exc:
            self._degraded(exc, "a failure")
            self._remember(ip, username, +1)

    def attempt(self, ip: str | None, username: str | None) -> float:
        """Atomically: if throttled return the wait, else charge one failure and return 0.

        Call before verifying the password; on success call :meth:`success`,
        which clears this user's counter for this source.
        """
        try:
            with self._db() as db:
                wait = self._wait(db, ip, username)
                if wait <= 0:
                    self._charge(db, ip, username)
                return wait
        except sqlite3.OperationalError as exc:
            self._degraded(exc, "the attempt")
        # the disk is full: enforce what is stored, charge this process's memory
        wait = self.retry_after(ip, username)
        if wait <= 0:
            self._remember(ip, username, +1)
        return wait

    def refund(self, ip: str | None, username: str | None) -> None:
        """Undo the charge of one :meth:`attempt` whose secret turned out right.

        A correct password (or code) must not count as a failure, or a busy
        office behind one address would throttle itself by signing in.
        """
        now = self.clock()
        try:
            with self._db() as db:
                for key, rule in self._keys(ip, username).values():
                    delta, _ = self.memory.get(key, now, rule.forget_after)
                    if delta > 0:  # the charge went to memory: take it back there
                        self.memory.add(key, -1, now)
                        continue
                    row = db.execute(
                        "SELECT failures, last FROM counters WHERE key = ?", (key,)
                    ).fetchone()
                    if row is None or now - row[1] > rule.forget_after:
                        continue
                    if row[0] <= 1:
                        db.execute("DELETE FROM counters WHERE key = ?", (key,))
                    else:
                        db.execute("UPDATE counters SET failures = ? WHERE key = ?",
                                   (row[0] - 1, key))
        except sqlite3.OperationalError as exc:
            self._degraded(exc, "a refund")
            self._remember(ip, username, -1)

    def success(self, ip: str | None, username: str | None) -> None:
        """A correct login: clear the ``user+ip`` counter and mark the source known-good."""
        keys = self._keys(ip, username)
        try:
            with self._db() as db:
                db.execute("DELETE FROM counters WHERE key = ?", (keys["user_ip"][0],))
                db.execute(
                    "INSERT OR REPLACE INTO known_good (user, ip, last) VALUES (?, ?, ?)",
                    (user_key(username), ip_key(ip), self.clock()),
                )
        except sqlite3.OperationalError as exc:
            self._degraded(exc, "a successful sign-in")
            key, rule = keys["user_ip"]
            with self._db() as db:  # reading still works: cancel what is counted
                failures, _ = self._count(db, key, rule, self.clock())
            self._remember(ip, username, -failures, only="user_ip")

    def failures(self, ip: str | None, username: str | None) -> dict[str, int]:
        """Current counts per counter (for the audit log and tests)."""
        now = self.clock()
        counts: dict[str, int] = {}
        with self._db() as db:
            for name, (key, rule) in self._keys(ip, username).items():
                counts[name] = self._count(db, key, rule, now)[0]
        return counts
