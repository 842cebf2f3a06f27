#!/usr/bin/env bash
# FT-over-HTTP benchmark: cpmgw's content server beside nginx serving the same 1 GiB file to the same client
# (curl) in the same run, over HTTP and HTTPS; upload throughput; cpmgw's RSS during 100 concurrent downloads.
# Prints each figure with its reference and exits 1 when a target of docs/targets is missed:
#   download >= 80 % of nginx over HTTP, >= 60 % over TLS; upload >= 50 % of cpmgw's HTTP download;
#   <= 256 KiB of RSS per concurrent transfer.
#
#   bench/fthttp_bench [CPMGW_BINARY]     (default: the cpmgw beside this script's build directory)
# Environment: FTBENCH_SIZE_MB (1024), FTBENCH_ROUNDS (5), FTBENCH_CONCURRENT (100).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cpmgw=${1:-$here/../cpmgw}
size_mb=${FTBENCH_SIZE_MB:-1024}
rounds=${FTBENCH_ROUNDS:-5}
concurrent=${FTBENCH_CONCURRENT:-100}
nginx=$(command -v nginx || echo /usr/sbin/nginx)
for tool in curl openssl python3; do
  command -v "$tool" >/dev/null || { echo "fthttp_bench: $tool is needed" >&2; exit 2; }
done
[ -x "$nginx" ] || { echo "fthttp_bench: nginx is needed (apt-get install nginx)" >&2; exit 2; }
[ -x "$cpmgw" ] || { echo "fthttp_bench: no cpmgw binary at $cpmgw" >&2; exit 2; }

work=$(mktemp -d /tmp/fthttp-bench-XXXXXX)
gw_pid=""
cleanup() {
  [ -n "$gw_pid" ] && kill "$gw_pid" 2>/dev/null && wait "$gw_pid" 2>/dev/null || true
  [ -f "$work/nginx/nginx.pid" ] && kill "$(cat "$work/nginx/nginx.pid")" 2>/dev/null || true
  jobs -p | xargs -r kill 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
median() { sort -g | awk '{v[NR]=$1} END {print (NR % 2) ? v[(NR+1)/2] : (v[NR/2] + v[NR/2+1]) / 2}'; }
gbps() { awk -v b="$1" 'BEGIN {printf "%.2f GB/s", b / 1e9}'; }
failed=0
verdict() {  # verdict NAME VALUE REFERENCE MIN_RATIO
  awk -v n="$1" -v v="$2" -v r="$3" -v m="$4" 'BEGIN {
    ratio = r > 0 ? v / r : 0
    ok = (ratio >= m)
    printf "%-34s %6.2f GB/s vs %6.2f GB/s = %5.1f %% (target >= %d %%)  %s\n", n, v / 1e9, r / 1e9, 100 * ratio,
           100 * m, (ok ? "ok" : "MISSED")
    exit (ok ? 0 : 1) }' || failed=1
}

echo "fthttp_bench: $size_mb MiB file, $rounds rounds, $concurrent concurrent downloads; work dir $work"
mkdir -p "$work/www" "$work/data" "$work/nginx/logs"
# nginx's workers run as an unprivileged user: they must be able to reach the file.
chmod 755 "$work" "$work/www"
head -c $((size_mb * 1024 * 1024)) /dev/urandom > "$work/www/file.bin"
chmod 644 "$work/www/file.bin"
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$work/key.pem" -out "$work/cert.pem" -days 1 \
  -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 2>/dev/null

cat > "$work/cpmgw.ini" <<EOF
[general]
data_dir = $work/data
log_level = notice
sip = false
[admin]
port = 0
[fthttp]
enabled = true
port = 0
tls_port = 0
tls_cert_file = $work/cert.pem
tls_key_file = $work/key.pem
max_file_size = $((size_mb + 16))M
user_quota = 0
low_water_mark = 0
threads = $((concurrent + 28))
EOF
"$cpmgw" --config "$work/cpmgw.ini" > "$work/cpmgw.log" 2>&1 &
gw_pid=$!
for _ in $(seq 100); do grep -q " ready" "$work/cpmgw.log" && break; sleep 0.1; done
ft_http=$(sed -n 's/.*FT-HTTP listening on \(http:[^ ]*\)$/\1/p' "$work/cpmgw.log")
ft_https=$(sed -n 's/.*FT-HTTP listening on \(https:[^ ]*\)$/\1/p' "$work/cpmgw.log")
[ -n "$ft_http" ] && [ -n "$ft_https" ] || { cat "$work/cpmgw.log"; exit 1; }

# nginx as Debian configures it (sendfile, tcp_nopush), on free ports, serving the same file.
ng_http=$(free_port)
ng_https=$(free_port)
cat > "$work/nginx/nginx.conf" <<EOF
worker_processes auto;
pid $work/nginx/nginx.pid;
error_log $work/nginx/logs/error.log;
events { worker_connections 1024; }
http {
  access_log off;
  sendfile on;
  tcp_nopush on;
  server {
    listen 127.0.0.1:$ng_http;
    listen 127.0.0.1:$ng_https ssl;
    ssl_certificate $work/cert.pem;
    ssl_certificate_key $work/key.pem;
    root $work/www;
  }
}
EOF
"$nginx" -p "$work/nginx" -c "$work/nginx/nginx.conf" -e "$work/nginx/logs/error.log"

# Uploads: the GSMA form through cpmgw; the last one's link is what is downloaded below.
up_speeds=()
for i in $(seq "$rounds"); do
  out=$(curl -s --noproxy '*' -o "$work/up.xml" -w '%{http_code} %{speed_upload}' -F "tid=bench-$i" \
    -F "File=@$work/www/file.bin" "$ft_http/")
  [ "${out%% *}" = 200 ] || { echo "upload failed: $out"; cat "$work/cpmgw.log"; exit 1; }
  up_speeds+=("${out##* }")
done
link_path=$(sed -n 's/.*<data url="http[^"]*\(\/d\/[^"]*\)".*/\1/p' "$work/up.xml" | tail -1)

speed() {  # speed URL -> bytes/s of one download
  curl -s --noproxy '*' -k -o /dev/null -w '%{speed_download}' "$1"
}
declare -A speeds
for _ in $(seq "$rounds"); do
  speeds[ng_http]+="$(speed "http://127.0.0.1:$ng_http/file.bin") "
  speeds[ft_http]+="$(speed "$ft_http$link_path") "
  speeds[ng_https]+="$(speed "https://127.0.0.1:$ng_https/file.bin") "
  speeds[ft_https]+="$(speed "$ft_https$link_path") "
done
med() { tr ' ' '\n' <<<"${speeds[$1]}" | grep . | median; }
ng_http_s=$(med ng_http)
ft_http_s=$(med ft_http)
ng_https_s=$(med ng_https)
ft_https_s=$(med ft_https)
up_s=$(printf '%s\n' "${up_speeds[@]}" | median)

echo
echo "medians of $rounds rounds (curl -o /dev/null over loopback):"
echo "  nginx  HTTP  $(gbps "$ng_http_s")    cpmgw HTTP  $(gbps "$ft_http_s")"
echo "  nginx  HTTPS $(gbps "$ng_https_s")    cpmgw HTTPS $(gbps "$ft_https_s")"
echo "  cpmgw upload (multipart, fsync) $(gbps "$up_s")"
verdict "download HTTP, cpmgw / nginx" "$ft_http_s" "$ng_http_s" 0.80
verdict "download HTTPS, cpmgw / nginx" "$ft_https_s" "$ng_https_s" 0.60
verdict "upload / cpmgw HTTP download" "$up_s" "$ft_http_s" 0.50

rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$gw_pid/status"; }
concurrent_rss() {  # concurrent_rss BASE_URL -> KiB of RSS growth per transfer
  local base=$1 idle peak=0 pids=()
  idle=$(rss_kb)
  for i in $(seq "$concurrent"); do
    curl -s --noproxy '*' -k --limit-rate 20M -o /dev/null "$base$link_path" &
    pids+=($!)
  done
  # The transfers run for tens of seconds at this rate: sample while all are in flight.
  for _ in $(seq 30); do
    sleep 0.1
    r=$(rss_kb)
    [ "$r" -gt "$peak" ] && peak=$r
  done
  kill "${pids[@]}" 2>/dev/null || true
  wait "${pids[@]}" 2>/dev/null || true
  echo "$idle $peak"
}
echo
for scheme in http https; do
  base=$ft_http
  [ $scheme = https ] && base=$ft_https
  read -r idle peak < <(concurrent_rss "$base")
  per=$(((peak - idle) / concurrent))
  total_mb=$((peak / 1024))
  status=ok
  [ "$per" -le 256 ] && [ "$total_mb" -lt 100 ] || { status=MISSED; failed=1; }
  printf "%-34s idle %6d KiB, with %d transfers %6d KiB: %4d KiB per transfer (target <= 256, total < 100 MB)  %s\n" \
    "RSS, $concurrent concurrent over ${scheme^^}" "$idle" "$concurrent" "$peak" "$per" "$status"
  sleep 1
done
exit $failed
