# Sourced by the benchmarks: start_nginx DIR PORT ACCESS_LOG starts nginx on
# 127.0.0.1:PORT from DIR, answering 200 "ok" to every path, logging as
# ACCESS_LOG says (an nginx directive list, e.g. 'access_log off;'), waits
# until it answers, and stops it when the script exits. Installs nginx when missing.
start_nginx() {
    local dir=$1 port=$2 access_log=$3
    command -v nginx >/dev/null || (apt-get update -qq && apt-get install -y -qq nginx) >/dev/null
    mkdir -p "$dir/tmp"
    cat > "$dir/nginx.conf" <<CONF
worker_processes 1;
daemon off;
pid nginx.pid;
error_log stderr error;
events { worker_connections 4096; }
http {
    $access_log
    keepalive_requests 1000000;
    client_body_temp_path tmp;
    proxy_temp_path tmp;
    fastcgi_temp_path tmp;
    uwsgi_temp_path tmp;
    scgi_temp_path tmp;
    server {
        listen 127.0.0.1:$port;
        location / { return 200 "ok"; }
    }
}
CONF
    (cd "$dir" && exec nginx -p "$PWD" -c nginx.conf) &
    nginx_pid=$!
    trap 'kill $nginx_pid 2>/dev/null || true' EXIT
    for _ in $(seq 50); do curl -sf -o /dev/null "http://127.0.0.1:$port/" && break; sleep 0.1; done
}
