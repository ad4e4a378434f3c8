#!/usr/bin/env bash
# Install, upgrade or remove Pruvon on a Debian/Ubuntu host that runs Dokku.
#
#   sudo scripts/install.sh [--listen ADDR] [--public-name NAME]    install or upgrade
#   sudo scripts/install.sh --uninstall [--purge]                     remove
#   scripts/install.sh --root DIR --venv VENV ...                     into a throwaway root
#
# What it writes (docs/install.md describes each step and its commands):
#   the `pruvon` system user (group pruvon, member of docker)
#   /opt/pruvon/venv                 the venv with pruvon[web] (or --venv, used as given)
#   /etc/pruvon/pruvon.yml    0600   pruvon:pruvon, one admin with a fresh random password
#                                    (printed once, stored only as a bcrypt hash); kept on upgrade
#   /etc/pruvon               0700   pruvon:pruvon, the config's directory (the service rewrites
#                                    its config there); /etc/pruvon.yml is a symlink to the file
#   /var/lib/pruvon           0700   pruvon:pruvon, state (secrets, audit log, locks); kept
#   /var/backups/pruvon       0700   pruvon:pruvon, backups; kept
#   /etc/default/pruvon       0644   root, PRUVON_BIN/PRUVON_USER/PRUVON_CONFIG/PRUVON_STATE_DIR
#   /etc/systemd/system/pruvon.service  0644 root
#   /etc/systemd/system/pruvon-backup.{service,timer}  0644 root (daily backup auto)
#   /etc/sudoers.d/pruvon     0440   root, pruvon->dokku and dokku->pruvon rules, checked
#                                    with `visudo -c` before it is put in place
#   the Dokku plugin (`dokku plugin:install`), then the service is (re)started.
#
# Every value taken from the command line is validated against a strict pattern
# and only ever passed as one argv element or written as data: nothing is eval'd.
# shellcheck disable=SC2034  # `declare desc=...` documents functions, as in the plugin
set -euo pipefail
umask 022

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SERVICE_USER=pruvon
DEFAULT_VENV=/opt/pruvon/venv
DEFAULT_LISTEN=127.0.0.1:8080

ROOT=""
LISTEN=""
PUBLIC_NAME=""
ALLOW_PUBLIC_LISTEN=0
UNINSTALL=0
PURGE=0
VENV=""
VENV_GIVEN=0

usage() {
  cat <<'usage_text'
Usage: scripts/install.sh [OPTIONS]

Install or upgrade Pruvon (run again to upgrade in place: config, users, keys
and state are kept, the service is restarted).

Options:
  --listen ADDR           pruvon.listen for a new config (default 127.0.0.1:8080)
  --allow-public-listen   accept a --listen address that is not loopback
  --public-name NAME      Pruvon is reached through a reverse proxy on this host
                          under NAME: writes security.trusted_proxies and
                          security.allowed_hosts (docs/reverse-proxy.md)
  --venv DIR              use this existing venv (with pruvon[web] installed)
                          instead of creating /opt/pruvon/venv
  --uninstall             remove what the installer added; keeps /etc/pruvon.yml,
                          /var/lib/pruvon and /var/backups/pruvon
  --purge                 with --uninstall: remove those too, and the pruvon user
  --root DIR              install into DIR instead of / (every path under DIR, no
                          user created, no service started, no Dokku plugin
                          installed): for tests and for inspecting what is written
  -h, --help              show this help
usage_text
}

fail() {
  echo "install.sh: $*" >&2
  exit 1
}

note() {
  echo "install.sh: $*"
}

# ---------------------------------------------------------------- arguments
need_value() {
  declare option="$1" count="$2"
  [[ "$count" -ge 2 ]] || fail "$option needs a value (see --help)"
}

parse_args() {
  while [[ $# -gt 0 ]]; do
    case "$1" in
      --listen) need_value "$1" $#; LISTEN="$2"; shift 2 ;;
      --public-name) need_value "$1" $#; PUBLIC_NAME="$2"; shift 2 ;;
      --venv) need_value "$1" $#; VENV="$2"; VENV_GIVEN=1; shift 2 ;;
      --root) need_value "$1" $#; ROOT="$2"; shift 2 ;;
      --allow-public-listen) ALLOW_PUBLIC_LISTEN=1; shift ;;
      --uninstall) UNINSTALL=1; shift ;;
      --purge) PURGE=1; shift ;;
      -h | --help) usage; exit 0 ;;
      *) fail "unknown option '$1' (see --help)" ;;
    esac
  done
  [[ "$PURGE" -eq 0 || "$UNINSTALL" -eq 1 ]] || fail "--purge only goes with --uninstall"
  validate_args
}

is_safe_path() {
  declare desc="an absolute path of plain characters (written into units and files as data)"
  [[ "$1" =~ ^/[A-Za-z0-9._/-]*$ && "$1" != *..* ]]
}

is_loopback_listen() {
  [[ "$1" =~ ^(127\.[0-9]+\.[0-9]+\.[0-9]+|localhost|\[::1\]):[0-9]+$ ]]
}

validate_listen() {
  [[ "$LISTEN" =~ ^([A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\]):([0-9]{1,5})$ ]] ||
    fail "--listen '$LISTEN' is not HOST:PORT (e.g. 127.0.0.1:8080)"
  local port="${BASH_REMATCH[2]}"
  [[ "$((10#$port))" -ge 1 && "$((10#$port))" -le 65535 ]] ||
    fail "--listen '$LISTEN': port must be 1-65535"
  if ! is_loopback_listen "$LISTEN" && [[ "$ALLOW_PUBLIC_LISTEN" -ne 1 ]]; then
    fail "--listen '$LISTEN' is not a loopback address: Pruvon would be reachable from" \
      "other machines. Keep 127.0.0.1:8080 behind a reverse proxy (docs/reverse-proxy.md)," \
      "or add --allow-public-listen if a firewall and TLS protect it."
  fi
}

validate_args() {
  if [[ -n "$ROOT" ]]; then
    is_safe_path "$ROOT" || fail "--root '$ROOT' must be an absolute path of letters, digits, '.', '_', '-', '/'"
    ROOT="${ROOT%/}"
  fi
  if [[ "$VENV_GIVEN" -eq 1 ]]; then
    is_safe_path "$VENV" || fail "--venv '$VENV' must be an absolute path of letters, digits, '.', '_', '-', '/'"
    VENV="${VENV%/}"
  fi
  if [[ -n "$LISTEN" ]]; then validate_listen; fi
  if [[ -n "$PUBLIC_NAME" ]]; then
    [[ "$PUBLIC_NAME" =~ ^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*(:[0-9]{1,5})?$ ]] ||
      fail "--public-name '$PUBLIC_NAME' is not a host name (e.g. pruvon.example.internal or pruvon.example.internal:8443)"
  fi
}

# ---------------------------------------------------------------- the system
os_release_file() {
  if [[ -n "$ROOT" && -f "$ROOT/etc/os-release" ]]; then
    echo "$ROOT/etc/os-release"
  else
    echo /etc/os-release
  fi
}

os_release_value() {
  declare desc="KEY's value from an os-release file, parsed (never sourced)"
  declare file="$1" key="$2"
  local line value=""
  while IFS= read -r line || [[ -n "$line" ]]; do
    [[ "$line" == "$key="* ]] || continue
    value="${line#"$key="}"
    value="${value#\"}"
    value="${value%\"}"
  done <"$file"
  echo "$value"
}

check_system() {
  declare desc="refuse anything but Debian/Ubuntu (and, for a real install, root with Dokku and systemd)"
  local file id like name
  file="$(os_release_file)"
  [[ -r "$file" ]] || fail "unsupported system: $file is missing; Pruvon's installer supports Debian and Ubuntu hosts that run Dokku"
  id="$(os_release_value "$file" ID)"
  like="$(os_release_value "$file" ID_LIKE)"
  name="$(os_release_value "$file" PRETTY_NAME)"
  case " $id $like " in
    *" debian "* | *" ubuntu "*) ;;
    *) fail "unsupported system: ${name:-$id} ($file). Pruvon's installer supports Debian and Ubuntu hosts that run Dokku; elsewhere install it by hand (docs/install.md)." ;;
  esac
  [[ -n "$ROOT" ]] && return 0
  [[ "$(id -u)" -eq 0 ]] || fail "run as root (sudo scripts/install.sh), or use --root DIR for a throwaway root"
  command -v systemctl >/dev/null || fail "unsupported system: systemd (systemctl) is required"
  if [[ "$UNINSTALL" -eq 0 ]]; then
    command -v dokku >/dev/null || fail "Dokku is not installed: install Dokku first (https://dokku.com/docs/getting-started/installation/)"
    command -v visudo >/dev/null || fail "sudo (visudo) is required: apt-get install sudo"
  fi
}

# ---------------------------------------------------------------- paths
set_paths() {
  CONFIG="$ROOT/etc/pruvon.yml"
  CONFIG_DIR="$ROOT/etc/pruvon"
  CONFIG_FILE="$CONFIG_DIR/pruvon.yml"
  DEFAULTS="$ROOT/etc/default/pruvon"
  STATE="$ROOT/var/lib/pruvon"
  BACKUPS="$ROOT/var/backups/pruvon"
  UNIT_DIR="$ROOT/etc/systemd/system"
  SUDOERS="$ROOT/etc/sudoers.d/pruvon"
  if [[ "$VENV_GIVEN" -eq 0 ]]; then
    VENV="$ROOT$DEFAULT_VENV"
  fi
  RUN_AS="$SERVICE_USER"
  if [[ -n "$ROOT" ]] && root_user_ids >/dev/null; then
    # a throwaway root that has its own pruvon user (a test's simulated host):
    # its files belong to that user, by the ids in DIR/etc/passwd
    OWNER="$(root_user_ids | cut -d: -f1)"
    GROUP="$(root_user_ids | cut -d: -f2)"
  elif [[ -n "$ROOT" ]]; then
    OWNER="$(id -un)"
    GROUP="$(id -gn)"
    RUN_AS="$OWNER"
  else
    OWNER="$SERVICE_USER"
    GROUP="$SERVICE_USER"
  fi
}

root_user_ids() {
  declare desc="uid:gid of the service user in --root's DIR/etc/passwd (fails when absent)"
  [[ -r "$ROOT/etc/passwd" ]] || return 1
  awk -F: -v user="$SERVICE_USER" '$1 == user { print $3 ":" $4; found = 1 } END { exit !found }' \
    "$ROOT/etc/passwd"
}

logical() {
  declare desc="the path as the installed system sees it (without --root's prefix)"
  echo "${1#"$ROOT"}"
}

# ---------------------------------------------------------------- install steps
ensure_user() {
  if [[ -n "$ROOT" ]]; then
    note "--root: no '$SERVICE_USER' user created; files the service owns belong to $OWNER"
    return 0
  fi
  if ! getent passwd "$SERVICE_USER" >/dev/null; then
    useradd --system --user-group --home-dir /var/lib/pruvon --no-create-home \
      --shell /usr/sbin/nologin "$SERVICE_USER"
    note "created system user $SERVICE_USER"
  fi
  if getent group docker >/dev/null; then
    usermod -a -G docker "$SERVICE_USER"
  fi
}

ensure_venv() {
  if [[ "$VENV_GIVEN" -eq 1 ]]; then
    [[ -x "$VENV/bin/pruvon" && -x "$VENV/bin/python" ]] ||
      fail "--venv $VENV has no bin/pruvon and bin/python: install pruvon[web] into it first"
    return 0
  fi
  command -v python3 >/dev/null || fail "python3 is required: apt-get install python3 python3-venv"
  python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))' ||
    fail "unsupported system: Pruvon needs Python 3.11 or newer, this host has $(python3 --version 2>&1) (Debian 12 or Ubuntu 24.04 and later ship it)"
  if [[ ! -x "$VENV/bin/python" ]]; then
    install -d -m 0755 "$(dirname "$VENV")"
    python3 -m venv "$VENV" || fail "could not create $VENV (apt-get install python3-venv)"
  fi
  "$VENV/bin/pip" install --quiet --upgrade pip
  "$VENV/bin/pip" install --quiet --upgrade "${REPO}[web]"
  note "installed $("$VENV/bin/pruvon" --version) into $(logical "$VENV")"
}

ensure_dirs() {
  install -d -m 0755 "$ROOT/etc" "$ROOT/etc/default" "$ROOT/etc/systemd/system" \
    "$ROOT/var/lib" "$ROOT/var/backups"
  install -d -m 0750 "$ROOT/etc/sudoers.d"
  local dir
  for dir in "$STATE" "$BACKUPS"; do
    if [[ -d "$dir" ]]; then
      chmod 0700 "$dir"
      chown "$OWNER:$GROUP" "$dir"
    else
      install -d -m 0700 -o "$OWNER" -g "$GROUP" "$dir"
    fi
  done
}

hash_password() {
  declare desc="bcrypt hash of the password on stdin, by Pruvon's own code; never an example hash"
  "$VENV/bin/python" -c '
import sys
from pruvon_auth.check import EXAMPLE_HASHES
from pruvon_auth.passwords import hash_password
digest = hash_password(sys.stdin.read())
if digest in EXAMPLE_HASHES:
    sys.exit("refusing an example hash")
print(digest)
'
}

new_password() {
  "$VENV/bin/python" -c 'import secrets; print(secrets.token_urlsafe(18))'
}

write_config_text() {
  declare hash="$1" listen="$2"
  cat <<config_text
# /etc/pruvon.yml - written by scripts/install.sh (mode 0600, owner pruvon).
# Validate after editing:  pruvon config validate
# Every key is described in docs/configuration.md.

pruvon:
  # Keep Pruvon on localhost; reach it through a VPN or a reverse proxy
  # with an IP allowlist (docs/reverse-proxy.md).
  listen: $listen

# Change the password with: sudo -u pruvon $(logical "$VENV")/bin/pruvon user passwd admin
admin:
  username: admin
  password: '$hash'

backup:
  backup_dir: /var/backups/pruvon
config_text
  if [[ -n "$PUBLIC_NAME" ]]; then
    cat <<proxy_text

# A reverse proxy on this host serves Pruvon as $PUBLIC_NAME (docs/reverse-proxy.md).
security:
  trusted_proxies: [127.0.0.1, '::1']
  allowed_hosts: [$PUBLIC_NAME]
proxy_text
  fi
}

ensure_config_dir() {
  declare desc="/etc/pruvon (0700, the service's) holds the config; /etc/pruvon.yml links to it"
  # The service may rewrite its config (users and grants from the web UI):
  # an atomic rename needs a directory it can write, and systemd's
  # ProtectSystem=full leaves only ReadWritePaths (/etc/pruvon) writable.
  install -d -m 0700 "$CONFIG_DIR"
  chown "$OWNER:$GROUP" "$CONFIG_DIR"
  if [[ -f "$CONFIG" && ! -L "$CONFIG" ]]; then
    [[ -e "$CONFIG_FILE" ]] && fail "both $(logical "$CONFIG") and $(logical "$CONFIG_FILE") exist: keep one, then run the installer again"
    mv "$CONFIG" "$CONFIG_FILE"
    chown "$OWNER:$GROUP" "$CONFIG_FILE"
    note "moved $(logical "$CONFIG") to $(logical "$CONFIG_FILE") (unchanged); $(logical "$CONFIG") now links to it"
  fi
}

link_config() {
  declare desc="/etc/pruvon.yml -> pruvon/pruvon.yml, the path operators and Pruvon's docs use"
  [[ -L "$CONFIG" && "$(readlink "$CONFIG")" == pruvon/pruvon.yml ]] && return 0
  [[ -e "$CONFIG" && ! -L "$CONFIG" ]] && fail "$(logical "$CONFIG") is in the way of the config symlink"
  ln -sfn pruvon/pruvon.yml "$CONFIG"
}

ensure_config() {
  declare desc="write a new config with a fresh admin password; an existing one is kept as is"
  if [[ -L "$CONFIG" && "$(readlink "$CONFIG")" != pruvon/pruvon.yml ]]; then
    note "kept $(logical "$CONFIG") -> $(readlink "$CONFIG") (your own link: for edits from the web UI, the service must be able to write the target's directory)"
    validate_existing_config
    return 0
  fi
  ensure_config_dir
  if [[ -e "$CONFIG_FILE" ]]; then
    link_config
    note "kept $(logical "$CONFIG")"
    if [[ -n "$LISTEN" || -n "$PUBLIC_NAME" ]]; then
      note "--listen/--public-name apply to a new config only: edit $(logical "$CONFIG") (docs/install.md)"
    fi
    validate_existing_config
    return 0
  fi
  local password hash tmp
  password="$(new_password)"
  hash="$(printf '%s' "$password" | hash_password)" || fail "could not hash the admin password"
  [[ "$hash" =~ ^\$2[aby]\$[0-9]{2}\$[./A-Za-z0-9]{53}$ ]] || fail "unexpected password hash from $VENV"
  tmp="$(mktemp "$CONFIG_FILE.XXXXXX")"
  chmod 0600 "$tmp"
  write_config_text "$hash" "${LISTEN:-$DEFAULT_LISTEN}" >"$tmp"
  if ! "$VENV/bin/pruvon" --config "$tmp" config validate >/dev/null; then
    rm -f "$tmp"
    fail "the generated config does not validate (see above)"
  fi
  chown "$OWNER:$GROUP" "$tmp"
  mv "$tmp" "$CONFIG_FILE"
  link_config
  note "wrote $(logical "$CONFIG_FILE") ($(logical "$CONFIG") links to it)"
  echo
  echo "  Pruvon admin user: admin"
  echo "  Pruvon admin password: $password"
  echo "  (shown once; only its bcrypt hash is stored)"
  echo
}

validate_existing_config() {
  if ! "$VENV/bin/pruvon" --config "$CONFIG" config validate >/dev/null; then
    fail "$(logical "$CONFIG") does not validate (see above): fix it, then run the installer again"
  fi
  if grep -qF -f <("$VENV/bin/python" -c 'from pruvon_auth.check import EXAMPLE_HASHES; print("\n".join(EXAMPLE_HASHES))') "$CONFIG"; then
    note "WARNING: $(logical "$CONFIG") still holds the bundled example password hash;" \
      "set a password: sudo -u pruvon $(logical "$VENV")/bin/pruvon user passwd admin"
  fi
}

install_file() {
  declare desc="put TMP at DEST with MODE, owned by root (atomic; TMP is consumed)"
  declare tmp="$1" dest="$2" mode="$3"
  chmod "$mode" "$tmp"
  if [[ -z "$ROOT" ]]; then chown root:root "$tmp"; fi
  mv "$tmp" "$dest"
}

write_defaults() {
  local tmp
  tmp="$(mktemp "$DEFAULTS.XXXXXX")"
  cat >"$tmp" <<defaults_text
# Written by scripts/install.sh: read by the pruvon service (systemd
# EnvironmentFile) and by the Dokku plugin shim (which only parses PRUVON_BIN).
PRUVON_BIN=$(logical "$VENV")/bin/pruvon
# the Dokku plugin runs pruvon as this user (sudo rule in /etc/sudoers.d/pruvon)
PRUVON_USER=$RUN_AS
PRUVON_CONFIG=/etc/pruvon.yml
PRUVON_STATE_DIR=/var/lib/pruvon
defaults_text
  install_file "$tmp" "$DEFAULTS" 0644
}

write_units() {
  declare desc="every unit of etc/systemd/, with ExecStart pointing at the venv's pruvon"
  local unit
  for unit in "$REPO"/etc/systemd/*; do
    write_unit "$unit" "$UNIT_DIR/${unit##*/}"
  done
}

write_unit() {
  declare source="$1" dest="$2"
  local tmp line
  tmp="$(mktemp "$dest.XXXXXX")"
  while IFS= read -r line || [[ -n "$line" ]]; do
    if [[ "$line" =~ ^ExecStart=/opt/pruvon/venv/bin/pruvon( .*)?$ ]]; then
      line="ExecStart=$(logical "$VENV")/bin/pruvon${BASH_REMATCH[1]}"
    fi
    printf '%s\n' "$line"
  done <"$source" >"$tmp"
  install_file "$tmp" "$dest" 0644
}

write_sudoers() {
  declare desc="etc/sudoers.d/pruvon, put in place only after visudo -c accepts it"
  command -v visudo >/dev/null || fail "visudo not found (apt-get install sudo): cannot check the sudoers rule"
  local tmp
  tmp="$(mktemp "$SUDOERS.XXXXXX")"
  sed "s#/opt/pruvon/venv/bin/pruvon#$(logical "$VENV")/bin/pruvon#" "$REPO/etc/sudoers.d/pruvon" >"$tmp"
  chmod 0440 "$tmp"
  if ! visudo -c -q -f "$tmp" >&2; then
    rm -f "$tmp"
    fail "visudo rejected the sudoers rule; nothing was changed in $(logical "$SUDOERS")"
  fi
  install_file "$tmp" "$SUDOERS" 0440
}

install_dokku_plugin() {
  if [[ -n "$ROOT" ]]; then
    note "--root: Dokku plugin not installed (on a host: dokku plugin:install, see docs/install.md)"
    return 0
  fi
  local build
  build="$(dirname "$VENV")/dokku-plugin"
  "$REPO/scripts/build-dokku-plugin" "$build" >/dev/null
  if dokku plugin:installed pruvon >/dev/null 2>&1; then
    dokku plugin:update pruvon
  else
    dokku plugin:install "file://$build/dokku-plugin" --name pruvon
  fi
}

start_service() {
  if [[ -n "$ROOT" ]]; then
    note "--root: service not started (on a host: systemctl enable --now pruvon)"
    return 0
  fi
  systemctl daemon-reload
  systemctl enable --quiet pruvon
  systemctl enable --quiet --now pruvon-backup.timer
  systemctl restart pruvon
  sleep 1
  systemctl is-active --quiet pruvon || fail "pruvon did not start: journalctl -u pruvon -n 50"
  note "pruvon is running; check it with: sudo $(logical "$VENV")/bin/pruvon check"
}

do_install() {
  ensure_user
  ensure_venv
  ensure_dirs
  ensure_config
  write_defaults
  write_units
  write_sudoers
  install_dokku_plugin
  start_service
  note "done"
}

# ---------------------------------------------------------------- uninstall
do_uninstall() {
  if [[ -z "$ROOT" ]]; then
    systemctl disable --now pruvon pruvon-backup.timer >/dev/null 2>&1 || true
    if command -v dokku >/dev/null && dokku plugin:installed pruvon >/dev/null 2>&1; then
      dokku plugin:uninstall pruvon
    fi
  fi
  local unit
  for unit in "$REPO"/etc/systemd/*; do
    rm -f "$UNIT_DIR/${unit##*/}"
  done
  rm -f "$SUDOERS" "$DEFAULTS"
  if [[ -z "$ROOT" ]]; then systemctl daemon-reload; fi
  if [[ "$VENV_GIVEN" -eq 0 ]]; then
    rm -rf "$(dirname "$VENV")"
  fi
  if [[ "$PURGE" -eq 1 ]]; then
    rm -rf "$CONFIG" "$CONFIG_DIR" "$STATE" "$BACKUPS"
    if [[ -z "$ROOT" ]] && getent passwd "$SERVICE_USER" >/dev/null; then
      userdel "$SERVICE_USER"
    fi
    note "removed Pruvon with its config, state and backups"
  else
    note "removed Pruvon; kept $(logical "$CONFIG"), $(logical "$STATE") and $(logical "$BACKUPS") (--purge removes them)"
  fi
}

main() {
  parse_args "$@"
  check_system
  set_paths
  if [[ "$UNINSTALL" -eq 1 ]]; then
    do_uninstall
  else
    do_install
  fi
}

main "$@"
