# shellcheck shell=bash
# S3Proxy (the S3 API over a directory: jclouds' filesystem store) for the object-storage benchmark targets
# (targets/ferry-s3, targets/ferry-cluster-s3) and bench/s3-direct. Source it after the harness's lib/common.sh
# (it uses spawn, wait_listen, die and BENCH_STATE).
#
# The store keeps object KEY of bucket $S3_BUCKET as the file BASEDIR/$S3_BUCKET/KEY, so the bucket directory is the
# target's ROOT: the runner puts its fixtures there and checks uploads there, as for a local root, while ferry
# reaches the files only over S3.
#
# S3Proxy runs from the class path of bench/s3proxy/pom.xml (the S3Proxy version the tests use), resolved once by
# Maven from the local repository and cached in bench/s3proxy/target/classpath.

FERRY_PROJECT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
S3_BUCKET=ferry
# Fixed keys for a loopback-only test service; never a real account's.
S3_ACCESS_KEY=bench-access
S3_SECRET_KEY=bench-secret-0123456789
S3_REGION=us-east-1

# s3proxy_java -> sets S3PROXY_JAVA to a JDK 21+ (the project's own finder; S3Proxy 3 needs 17+)
s3proxy_java() {
  # shellcheck source=../scripts/jdk.sh
  . "$FERRY_PROJECT/scripts/jdk.sh"
  ferry_find_jdk || die "no JDK 21+ found (scripts/jdk.sh)"
  S3PROXY_JAVA=$FERRY_JAVA
}

# s3proxy_classpath -> prints S3Proxy's class path, resolving it with Maven if the cache is missing or stale
s3proxy_classpath() {
  local pom=$FERRY_PROJECT/bench/s3proxy/pom.xml cache=$FERRY_PROJECT/bench/s3proxy/target/classpath
  if [ ! -s "$cache" ] || [ "$pom" -nt "$cache" ] || [ "$FERRY_PROJECT/pom.xml" -nt "$cache" ]; then
    mkdir -p "${cache%/*}"
    # Offline first (the build has put S3Proxy in the local repository); online only if that fails.
    "$FERRY_PROJECT/build" -q -o -Dstyle.color=never -f "$pom" dependency:build-classpath -Dmdep.includeScope=runtime \
        -Dmdep.outputFile="$cache" >&2 ||
      "$FERRY_PROJECT/build" -q -Dstyle.color=never -f "$pom" dependency:build-classpath -Dmdep.includeScope=runtime \
        -Dmdep.outputFile="$cache" >&2 ||
      die "could not resolve S3Proxy's class path (bench/s3proxy/pom.xml)"
  fi
  cat "$cache"
}

# s3proxy_start NAME HOST PORT BASEDIR -> starts S3Proxy on HOST:PORT storing below BASEDIR (bucket $S3_BUCKET made
# as BASEDIR/$S3_BUCKET), waits until it listens, prints its PID (recorded by spawn as pids/NAME).
s3proxy_start() {
  local name=$1 host=$2 port=$3 base=$4 cp conf pid
  s3proxy_java
  cp=$(s3proxy_classpath) || exit 1
  mkdir -p "$base/$S3_BUCKET" || die "cannot create $base/$S3_BUCKET"
  conf=$BENCH_STATE/$name.properties
  cat >"$conf" <<PROPS
s3proxy.endpoint=http://$host:$port
s3proxy.authorization=aws-v2-or-v4
s3proxy.identity=$S3_ACCESS_KEY
s3proxy.credential=$S3_SECRET_KEY
jclouds.provider=filesystem
jclouds.filesystem.basedir=$base
PROPS
  chmod 600 "$conf"
  # A bounded heap: S3Proxy streams objects, it does not need the JVM's default quarter of the machine.
  pid=$(spawn "$name" "$S3PROXY_JAVA" -Xmx512m -Dlogback.configurationFile="$FERRY_PROJECT/bench/s3proxy/logback.xml" \
        -cp "$cp" org.gaul.s3proxy.Main --properties "$conf")
  wait_listen "$host" "$port" 60 || die "S3Proxy did not listen on $host:$port (see $BENCH_STATE/logs/$name.log)"
  echo "$pid"
}

# s3proxy_credentials FILE -> writes the keys as an AWS credentials file (profile "default"), mode 600
s3proxy_credentials() {
  (umask 077 && printf '[default]\naws_access_key_id = %s\naws_secret_access_key = %s\n' \
    "$S3_ACCESS_KEY" "$S3_SECRET_KEY" >"$1") || die "cannot write $1"
}
