#!/usr/bin/env bash
# npm run tls:dev-certs [-- <dir>]: a private CA and certificates for the docker-compose demo (deploy/tls by
# default): vigil (localhost, vigil), postgres and redis, each valid for a year. For a local demo only: in
# production the certificates come from your CA and the keys from your secret store.
set -euo pipefail
dir="${1:-deploy/tls}"
mkdir -p "$dir"
cd "$dir"
days=365
[ -f ca.key ] || openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -noenc -days "$days" \
  -subj "/CN=Vigil demo CA" -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
  -keyout ca.key -out ca.crt 2>/dev/null
issue() {
  local name=$1 sans=$2
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -noenc -subj "/CN=$name" -keyout "$name.key" -out "$name.csr" 2>/dev/null
  printf 'subjectAltName=%s\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n' "$sans" > "$name.ext"
  openssl x509 -req -in "$name.csr" -CA ca.crt -CAkey ca.key -CAcreateserial -days "$days" -extfile "$name.ext" -out "$name.crt" 2>/dev/null
  rm -f "$name.csr" "$name.ext"
  # Readable by the containers' own users (vigil, postgres and redis copy theirs with the mode they demand).
  chmod 644 "$name.key"
}
issue vigil "DNS:localhost,DNS:vigil,IP:127.0.0.1"
issue postgres "DNS:postgres,DNS:localhost"
issue postgres-standby "DNS:postgres-standby,DNS:localhost"
issue redis "DNS:redis,DNS:localhost"
chmod 600 ca.key
echo "certificates in $dir: ca.crt, vigil.{crt,key}, postgres.{crt,key}, redis.{crt,key}"
