#!/usr/bin/env bash
# Start the authenticating reverse proxy (nginx) in front of the Dagster UI, the read-only
# Dagster UI and the review desk. Renders deploy/proxy/nginx.conf.template into
# $PIX_PROXY_STATE_DIR, checks it with `nginx -t`, then runs nginx in the foreground.
# Every setting is an environment variable; docs/production.md describes them.
set -euo pipefail
project="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
deploy="$project/deploy/proxy"

fail() { echo "proxy.sh: $*" >&2; exit 2; }

listen="${PIX_PROXY_LISTEN:-127.0.0.1:8080}"
admins="${PIX_PROXY_ADMINS_FILE:-}"
viewers="${PIX_PROXY_VIEWERS_FILE:-$admins}"
state="${PIX_PROXY_STATE_DIR:-$project/.proxy}"
cert="${PIX_PROXY_TLS_CERT:-}"
key="${PIX_PROXY_TLS_KEY:-}"
redirect_listen="${PIX_PROXY_REDIRECT_LISTEN:-}"
nginx_bin="${NGINX:-$(command -v nginx || echo /usr/sbin/nginx)}"

[ -x "$nginx_bin" ] || fail "nginx is not installed (Debian: apt-get install nginx-light)"
[ -n "$admins" ] || fail "PIX_PROXY_ADMINS_FILE must name the admins' password file" \
  "(htpasswd -c -B FILE daniel)"
for file in "$admins" "$viewers"; do
  [ -r "$file" ] || fail "password file $file does not exist or is not readable"
done
if [ -n "$cert$key" ]; then
  [ -r "$cert" ] || fail "PIX_PROXY_TLS_CERT=$cert is not a readable certificate file"
  [ -r "$key" ] || fail "PIX_PROXY_TLS_KEY=$key is not a readable key file"
fi

# Basic authentication sends the password with every request: in plain HTTP only over
# loopback, or behind a TLS terminator on a private network that the operator vouches for.
# An nginx listen address HOST:PORT counts as loopback when HOST, parsed as an address (never
# looked up in DNS), is in 127.0.0.0/8 or is [::1], or is the name localhost: so
# 127.0.0.1.nip.io, which DNS would answer with 127.0.0.1, is not.
is_loopback() {
  "${PYTHON:-python3}" - "$1" <<'PY'
import ipaddress
import sys

host, sep, port = sys.argv[1].rpartition(":")
if not sep or not port.isdigit():
    sys.exit(1)  # a bare port listens on every address
if host.startswith("[") and host.endswith("]"):
    host = host[1:-1]
elif ":" in host:
    sys.exit(1)  # nginx wants an IPv6 address in brackets
if host == "localhost":
    sys.exit(0)
try:
    sys.exit(0 if ipaddress.ip_address(host).is_loopback else 1)
except ValueError:
    sys.exit(1)  # a host name: whatever it resolves to is not known here
PY
}
for address in $listen; do
  if [ -z "$cert" ] && ! is_loopback "$address" && [ "${PIX_PROXY_ALLOW_PLAIN_HTTP:-}" != "1" ]; then
    fail "PIX_PROXY_LISTEN=$address is not a loopback address: set PIX_PROXY_TLS_CERT and" \
      "PIX_PROXY_TLS_KEY, or PIX_PROXY_ALLOW_PLAIN_HTTP=1 when a TLS terminator on the private" \
      "network forwards to this proxy"
  fi
done
[ -z "$redirect_listen" ] || [ -n "$cert" ] ||
  fail "PIX_PROXY_REDIRECT_LISTEN redirects to HTTPS and needs PIX_PROXY_TLS_CERT"

mkdir -p "$state/tmp"
# Started as root, nginx's workers run as PIX_PROXY_WORKER_USER and must pass through this
# folder to their temp files; nothing in it is secret (paths and logs without passwords).
chmod 711 "$state"
state="$(cd "$state" && pwd)"

tls=""
suffix=""
if [ -n "$cert" ]; then
  suffix=" ssl"
  tls="    ssl_certificate $cert;
    ssl_certificate_key $key;
    ssl_protocols TLSv1.2 TLSv1.3;
    ssl_session_cache shared:pix_tls:1m;
    add_header Strict-Transport-Security \"max-age=31536000\" always;"
fi
if [ -n "$cert" ] || [ "${PIX_PROXY_ALLOW_PLAIN_HTTP:-}" = "1" ]; then
  # Browsers reach the proxy over HTTPS (here, or at the TLS terminator in front of it), so
  # every cookie an upstream sets (the desk's session) is marked Secure: never sent in clear.
  tls+="
    proxy_cookie_flags ~ secure;"
fi
listen_lines=""
listen_default=""
for address in $listen; do
  listen_lines+="listen $address$suffix; "
  listen_default+="listen $address$suffix default_server; "
done

redirect_server=""
if [ -n "$redirect_listen" ]; then
  acme_root="${PIX_PROXY_ACME_ROOT:-$state/acme}"
  redirect_lines=""
  for address in $redirect_listen; do
    redirect_lines+="listen $address default_server; "
  done
  mkdir -p "$acme_root"
  redirect_server="
    # Plain HTTP: certbot's webroot challenges, and a redirect to HTTPS for everything else.
    server {
        $redirect_lines
        location /.well-known/acme-challenge/ {
            root $acme_root;
        }
        location / {
            return 301 https://\$host\$request_uri;
        }
    }"
fi

# nginx drops worker privileges only when started as root; then name the worker user.
user_line=""
if [ "$(id -u)" = "0" ]; then
  user_line="user ${PIX_PROXY_WORKER_USER:-www-data};"
fi

conf="$(cat "$deploy/nginx.conf.template")"
substitute() {
  local name="$1" value="$2"
  case "$value" in
    *[\;\{\}\"\'\`]* | *$'\n'*) fail "the value for @$name@ holds a character nginx would misread: $value" ;;
  esac
  conf="${conf//@"$name"@/"$value"}"
}
substitute STATE_DIR "$state"
substitute DEPLOY_DIR "$deploy"
substitute ADMINS_FILE "$(realpath "$admins")"
substitute VIEWERS_FILE "$(realpath "$viewers")"
substitute ADMIN_HOST "${PIX_PROXY_ADMIN_HOST:-dagster.localhost}"
substitute VIEWER_HOST "${PIX_PROXY_VIEWER_HOST:-view.localhost}"
substitute DESK_HOST "${PIX_PROXY_DESK_HOST:-desk.localhost}"
substitute ADMIN_UPSTREAM "${PIX_PROXY_ADMIN_UPSTREAM:-127.0.0.1:3000}"
substitute VIEWER_UPSTREAM "${PIX_PROXY_VIEWER_UPSTREAM:-127.0.0.1:3002}"
substitute DESK_UPSTREAM "${PIX_PROXY_DESK_UPSTREAM:-127.0.0.1:3001}"
# Generated blocks: their own semicolons and braces are intended.
conf="${conf//@USER_LINE@/"$user_line"}"
conf="${conf//@LISTEN@/"$listen_lines"}"
conf="${conf//@LISTEN_DEFAULT@/"$listen_default"}"
conf="${conf//@TLS_SETTINGS@/"$tls"}"
conf="${conf//@REDIRECT_SERVER@/"$redirect_server"}"
case "$conf" in
  *@[A-Z_]*@*) fail "deploy/proxy/nginx.conf.template has a placeholder this script does not fill" ;;
esac
printf '%s\n' "$conf" >"$state/nginx.conf"

"$nginx_bin" -q -t -e stderr -c "$state/nginx.conf"
echo "proxy.sh: nginx on $listen (config $state/nginx.conf)" >&2
exec "$nginx_bin" -e stderr -c "$state/nginx.conf" -g "daemon off;"
