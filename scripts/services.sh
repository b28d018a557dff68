#!/usr/bin/env bash
# Makes sure the servers the named stacks need are up, starting any that is down;
# fails loudly when one cannot be reached. Usage: scripts/services.sh STACK...
set -uo pipefail

need_pg=0; need_redis=0; need_rabbit=0
for stack in "$@"; do
  case "$stack" in
    postgres-redis) need_pg=1; need_redis=1 ;;
    postgres-rabbitmq) need_pg=1; need_rabbit=1 ;;
  esac
done

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

wait_port() {  # name port start-command...
  local name=$1 port=$2; shift 2
  port_open "$port" && return 0
  echo "$name is down on 127.0.0.1:$port; starting it: $*" >&2
  "$@" >/dev/null 2>&1 || true
  for _ in $(seq 1 60); do port_open "$port" && return 0; sleep 1; done
  echo "FATAL: $name is not reachable on 127.0.0.1:$port; the tests of this stack cannot run" >&2
  exit 1
}

if [ $need_pg = 1 ]; then
  wait_port PostgreSQL 5432 pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql 2>/dev/null | head -1)" main start
  psql -h 127.0.0.1 -U postgres -tAc "select 1" postgres >/dev/null \
    || { echo "FATAL: cannot log in to PostgreSQL as postgres on 127.0.0.1" >&2; exit 1; }
fi
if [ $need_redis = 1 ]; then
  wait_port Redis 6379 redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" \
    --appendonly no --dir /var/lib/redis --logfile /var/log/redis/ci.log
fi
if [ $need_rabbit = 1 ]; then
  wait_port RabbitMQ 5672 rabbitmq-server -detached
fi
exit 0
