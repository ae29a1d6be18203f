# Sourced by run.sh, breakdown.sh and soak.sh: start_bench_nginx starts nginx
# from bench/nginx.conf on core 1 (http://127.0.0.1:18080, and over TLS
# https://127.0.0.1:18443 with HTTP/2 and :18444 with HTTP/1.1 only, on a
# self-signed certificate made here), unless one already answers; waits until
# it does and stops it when the script exits. Installs nginx and openssl
# (Debian) when missing.
start_bench_nginx() {
  if ! command -v nginx >/dev/null || ! command -v openssl >/dev/null; then
    (apt-get update -qq && apt-get install -y -qq nginx openssl) >/dev/null
  fi
  mkdir -p bench/out/nginx/tmp
  cp bench/nginx.conf bench/out/nginx/nginx.conf
  if [ ! -f bench/out/nginx/cert.pem ]; then
    openssl req -x509 -newkey rsa:2048 -nodes -keyout bench/out/nginx/key.pem -out bench/out/nginx/cert.pem \
      -days 3650 -subj "/CN=127.0.0.1" 2>/dev/null
  fi
  if curl -sf http://127.0.0.1:18080/ >/dev/null; then
    return
  fi
  (cd bench/out/nginx && exec taskset -c 1 nginx -p "$PWD" -c nginx.conf) &
  nginx_pid=$!
  trap 'kill $nginx_pid 2>/dev/null || true' EXIT
  for _ in $(seq 50); do curl -sf http://127.0.0.1:18080/ >/dev/null && break; sleep 0.1; done
}
