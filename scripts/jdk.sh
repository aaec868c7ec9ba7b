# shellcheck shell=bash
# JDK discovery shared by ./ferry, ./build, .ci/run and the installed bin/ferry (sourced, bash only; the
# distribution archive carries this file as lib/jdk.sh).
#
# Ferry needs Java 21+, but many machines default to an older java (Debian 12: 17), so the scripts look
# for a suitable JDK themselves instead of trusting whatever `java` is first on PATH. Order:
#   1. $JAVA_HOME                       - the user's explicit choice wins when it is new enough;
#   2. `java` on PATH                   - resolved through symlinks (/usr/bin/java -> /etc/alternatives/...);
#   3. every JDK in FERRY_JDK_SEARCH_DIRS (default /usr/lib/jvm; space- or colon-separated) - highest wins.
# The version comes from the JDK's `release` file (JAVA_VERSION="25.0.1"), which costs no JVM start;
# only when that is missing is `java -version` parsed.
#
# API:
#   ferry_find_jdk        returns 0 and sets FERRY_JDK_HOME, FERRY_JAVA, FERRY_JAVA_VERSION (e.g. 25.0.1),
#                         or returns 1; either way FERRY_JDK_SEEN lists every JDK looked at ("path (version)").
#   ferry_no_jdk_message  prints the "needs Java 21 or newer" explanation to stderr.
#   ferry_use_jdk         exports JAVA_HOME/PATH (and MAVEN_OPTS) so Maven runs on the JDK found.
#   ferry_exec_jar JAR [ARGS...]
#                         replaces the shell with the JDK found running JAR, with FERRY_DEFAULT_JAVA_OPTS, the AOT
#                         cache options (ferry_aot_opts) and then $FERRY_JAVA_OPTS (later options win, so
#                         FERRY_JAVA_OPTS=-Xmx2g overrides the defaults).
#   ferry_aot_opts JAR    prints the JVM options for FERRY_AOT_CACHE (see there), one per line, or nothing.
# Safe under `set -euo pipefail`; defines only FERRY_* variables and ferry_*/_ferry_* names.

FERRY_MIN_JAVA=21

# JVM options of every launcher, chosen by measurement (docs/performance.md):
# - The JDK's default tiered JIT (C1, then C2 for hot code). C1 alone (TieredStopAtLevel=1) halved the
#   CPU per small plain-FTP file, whose hot paths are system calls, but it cannot use the AES-GCM
#   intrinsics: FTPS ran at ~30 MB/s under C1 against ~600 MB/s with C2 (one JDK 25 AES-GCM loop:
#   33 MB/s against 1237 MB/s). FTPS is on by default, so C2 stays.
# - SerialGC, small initial heap, no perf data file: a small footprint for many idle sessions.
# - Xss512k: platform threads are few (acceptor, watchdog, idle parker); sessions are virtual threads.
# - Client-initiated TLS renegotiation refused (TLS 1.2; 1.3 has none): each one costs the server a key
#   exchange, asked for by anyone who connects (docs/ftps.md). The JDK reads it once, at its first server
#   handshake; ferry sets it in-process too, and a later -D...=false in FERRY_JAVA_OPTS wins.
FERRY_DEFAULT_JAVA_OPTS="-XX:+UseSerialGC -Xms64m -Xss512k -XX:-UsePerfData -Djdk.tls.rejectClientInitiatedRenegotiation=true"

# Prints the version of the JDK at $1 (home) with java binary $2, or nothing if it cannot be told.
_ferry_jdk_version() {
  local home=$1 java=$2 line version=""
  if [ -r "$home/release" ]; then
    while IFS= read -r line || [ -n "$line" ]; do
      case $line in
        JAVA_VERSION=*) version=${line#JAVA_VERSION=}; version=${version//\"/}; break ;;
      esac
    done <"$home/release"
  fi
  if [ -z "$version" ]; then
    # e.g. 'openjdk version "17.0.15" 2025-04-15' or 'java version "1.8.0_292"'
    while IFS= read -r line; do
      case $line in
        *' version "'*) version=${line#*\"}; version=${version%%\"*}; break ;;
      esac
    done < <("$java" -version 2>&1 || true)
  fi
  printf '%s' "$version"
}

# Prints the feature release ("major") of a version string: 25.0.1 -> 25, 21-ea -> 21, 1.8.0_292 -> 8.
_ferry_java_major() {
  local v=$1
  case $v in 1.*) v=${v#1.} ;; esac
  v=${v%%[!0-9]*}
  printf '%s' "${v:-0}"
}

# Succeeds when version $1 is strictly higher than version $2, comparing numeric components in order.
_ferry_version_gt() {
  local -a a b
  local i x y
  IFS='._+-' read -r -a a <<<"$1"
  IFS='._+-' read -r -a b <<<"$2"
  for i in 0 1 2 3; do
    x=${a[i]:-0}; y=${b[i]:-0}
    x=${x%%[!0-9]*}; y=${y%%[!0-9]*}
    x=$((10#${x:-0})); y=$((10#${y:-0}))
    [ "$x" -gt "$y" ] && return 0
    [ "$x" -lt "$y" ] && return 1
  done
  return 1
}

# Looks at the JDK whose java binary is $2 (home $1), labelled $3 in the "seen" list; sets _ferry_version
# and succeeds when it is new enough. A home already looked at is not listed twice.
_ferry_consider() {
  local home=$1 java=$2 label=$3 major entry
  _ferry_version=""
  if [ ! -x "$java" ]; then
    _ferry_seen_add "$label$home (no bin/java)"
    return 1
  fi
  _ferry_version=$(_ferry_jdk_version "$home" "$java")
  entry="$label$home (${_ferry_version:-unknown version})"
  case " $_ferry_homes_seen " in
    *" $home "*) ;;
    *) _ferry_seen_add "$entry"; _ferry_homes_seen+=" $home" ;;
  esac
  major=$(_ferry_java_major "$_ferry_version")
  [ "$major" -ge "$FERRY_MIN_JAVA" ]
}

_ferry_seen_add() {
  FERRY_JDK_SEEN=${FERRY_JDK_SEEN:+$FERRY_JDK_SEEN, }$1
}

_ferry_found() {
  FERRY_JDK_HOME=$1 FERRY_JAVA=$2 FERRY_JAVA_VERSION=$3
}

ferry_find_jdk() {
  local java home dir candidate best_home="" best_java="" best_version=""
  local -a dirs
  # shellcheck disable=SC2034 # results for the sourcing script
  FERRY_JDK_HOME="" FERRY_JAVA="" FERRY_JAVA_VERSION="" FERRY_JDK_SEEN=""
  _ferry_homes_seen=""

  if [ -n "${JAVA_HOME:-}" ]; then
    home=$(readlink -f "$JAVA_HOME" 2>/dev/null || printf '%s' "$JAVA_HOME")
    if _ferry_consider "$home" "$home/bin/java" "JAVA_HOME="; then
      _ferry_found "$home" "$home/bin/java" "$_ferry_version"; return 0
    fi
  fi

  if java=$(command -v java 2>/dev/null) && java=$(readlink -f "$java" 2>/dev/null) && [ -n "$java" ]; then
    home=${java%/bin/java}
    if _ferry_consider "$home" "$java" "PATH: "; then
      _ferry_found "$home" "$java" "$_ferry_version"; return 0
    fi
  fi

  IFS=': ' read -r -a dirs <<<"${FERRY_JDK_SEARCH_DIRS-/usr/lib/jvm}"
  for dir in "${dirs[@]}"; do
    [ -d "$dir" ] || continue
    for candidate in "$dir"/*/; do
      [ -x "${candidate}bin/java" ] || continue
      home=$(readlink -f "$candidate")
      # a JDK reached through several names (java-1.17.0-openjdk-amd64 -> java-17-openjdk-amd64) counts once
      case " $_ferry_homes_seen " in *" $home "*) continue ;; esac
      if _ferry_consider "$home" "$home/bin/java" "" \
          && { [ -z "$best_home" ] || _ferry_version_gt "$_ferry_version" "$best_version"; }; then
        best_home=$home best_java=$home/bin/java best_version=$_ferry_version
      fi
    done
  done
  if [ -n "$best_home" ]; then
    _ferry_found "$best_home" "$best_java" "$best_version"; return 0
  fi
  return 1
}

ferry_no_jdk_message() {
  printf 'Ferry needs Java %s or newer; found: %s; install one (e.g. Temurin %s+) or set JAVA_HOME\n' \
    "$FERRY_MIN_JAVA" "${FERRY_JDK_SEEN:-none}" "$FERRY_MIN_JAVA" >&2
}

ferry_use_jdk() {
  export JAVA_HOME=$FERRY_JDK_HOME
  export PATH=$FERRY_JDK_HOME/bin:$PATH
  # Maven 3.8's bundled Guava calls sun.misc.Unsafe, which JDK 24+ warns about on every build (JEP 498);
  # the option exists since JDK 23. A user's own MAVEN_OPTS comes later and wins.
  if [ "$(_ferry_java_major "$FERRY_JAVA_VERSION")" -ge 24 ]; then
    export MAVEN_OPTS="--sun-misc-unsafe-memory-access=allow${MAVEN_OPTS:+ $MAVEN_OPTS}"
  fi
}

# FERRY_AOT_CACHE=FILE (opt-in, Java 25+): an ahead-of-time cache (JEP 483, 514, 515) of the classes this program
# loaded and the method profiles it gathered in an earlier run, so that a fresh JVM reaches compiled code sooner.
# It pays where a cold JVM's first work is heavy: the TLS-terminating balancer's first encrypted GiB cost 8-34 %
# less CPU with the cache in two runs (docs/performance.md, "FTPS throughput and CPU"). When FILE is missing or older
# than the jar (a new build), this run trains it: the JVM records while it runs and writes FILE when it exits,
# which then takes a few seconds more. Give each service its own FILE (a server's and a balancer's work
# differ) in a directory its account may write. Java 21 to 24 know none of these options and would refuse to
# start, so there the variable is ignored with a note.
ferry_aot_opts() {
  local jar=$1 file=${FERRY_AOT_CACHE:-}
  [ -n "$file" ] || return 0
  if [ "$(_ferry_java_major "$FERRY_JAVA_VERSION")" -lt 25 ]; then
    echo "ferry: FERRY_AOT_CACHE needs Java 25 or newer; Java $FERRY_JAVA_VERSION runs without it" >&2
    return 0
  fi
  if [ -f "$file" ] && [ "$file" -nt "$jar" ]; then
    printf '%s\n' "-XX:AOTCache=$file"
  else
    # The cache's assembly lists as warnings the hundreds of classes it leaves out (e.g. JFR's): errors only.
    printf '%s\n' "-XX:AOTCacheOutput=$file" "-Xlog:aot=error"
  fi
}

# exec, so the JVM keeps the launcher's PID: SIGTERM from a shell, a test or systemd ($MAINPID) reaches it.
ferry_exec_jar() {
  local jar=$1
  shift
  local -a java_opts aot_opts user_opts
  read -r -a java_opts <<<"$FERRY_DEFAULT_JAVA_OPTS"
  mapfile -t aot_opts < <(ferry_aot_opts "$jar")
  read -r -a user_opts <<<"${FERRY_JAVA_OPTS:-}"
  java_opts+=(${aot_opts[@]+"${aot_opts[@]}"} ${user_opts[@]+"${user_opts[@]}"})
  exec "$FERRY_JAVA" "${java_opts[@]}" -jar "$jar" "$@"
}
