# Sourced by scripts/test and scripts/bench: install (if needed) and start a throwaway
# PostgreSQL on a free loopback port. After `pg_start`, PG_URL names an empty database;
# `pg_stop` removes everything. Needs: say(), and ROOT pointing at the repository.

pg_find_bin() {
  local d
  for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -rV); do
    [ -x "$d/initdb" ] && { echo "$d"; return 0; }
  done
  command -v initdb >/dev/null 2>&1 && { dirname "$(command -v initdb)"; return 0; }
  return 1
}

apt_install() {
  # apt_install PACKAGE...: install Debian packages, as root or with sudo.
  local sudo=""
  if [ "$(id -u)" != 0 ]; then
    command -v sudo >/dev/null 2>&1 || { say "missing $*: install them (apt-get install $*) or run as root"; return 1; }
    sudo=sudo
  fi
  say "installing $* (apt-get)"
  $sudo apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "$@" >&2
}

pg_start() {
  pg_find_bin >/dev/null || apt_install postgresql
  PG_BIN="$(pg_find_bin)"
  PGROOT="$(mktemp -d /tmp/leadbase-pg.XXXXXX)"
  PGPORT="$("$ROOT/.venv/bin/python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
  PG_AS=()
  if [ "$(id -u)" = 0 ]; then   # PostgreSQL refuses to run as root
    id postgres >/dev/null 2>&1 || useradd --system --no-create-home postgres
    chown postgres "$PGROOT"
    PG_AS=(runuser -u postgres --)
  fi
  "${PG_AS[@]}" "$PG_BIN/initdb" -D "$PGROOT/data" -U leadbase --auth=trust -E UTF8 --no-locale >/dev/null
  "${PG_AS[@]}" "$PG_BIN/pg_ctl" -D "$PGROOT/data" -l "$PGROOT/log" -w \
    -o "-h 127.0.0.1 -p $PGPORT -k $PGROOT -c fsync=off -c full_page_writes=off -c max_connections=200" \
    start >/dev/null
  "${PG_AS[@]}" "$PG_BIN/createdb" -h 127.0.0.1 -p "$PGPORT" -U leadbase leadbase
  PG_URL="postgres://leadbase@127.0.0.1:$PGPORT/leadbase"
  say "PostgreSQL $("$PG_BIN/postgres" --version | awk '{print $3}') on 127.0.0.1:$PGPORT"
}

pg_stop() {
  [ -n "${PGROOT:-}" ] || return 0
  "${PG_AS[@]}" "$PG_BIN/pg_ctl" -D "$PGROOT/data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$PGROOT"
}
