#!/usr/bin/env bash
# Restore a backup made by scripts/backup.sh into an EMPTY database and media folder:
#   DATABASE_URL=postgres://…/fanpin_restored MEDIA_ROOT=/srv/fanpin/media bash scripts/restore.sh BACKUP_DIR/fanpin-…
# Refuses a database that already has tables or a media folder that is not empty, so a
# restore never mixes with (or overwrites) live data; checks the checksums first.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

backup="${1:?usage: restore.sh BACKUP_DIRECTORY}"
: "${DATABASE_URL:?DATABASE_URL must name the (empty) PostgreSQL database to restore into}"
MEDIA_ROOT="${MEDIA_ROOT:-media}"

(cd "$backup" && sha256sum --check --quiet SHA256SUMS)
tables="$(psql "$DATABASE_URL" -Atc "select count(*) from information_schema.tables where table_schema = 'public'")"
if [ "$tables" != "0" ]; then
    echo "!! 目标数据库不是空的（$tables 张表），为免覆盖现有数据已停止" >&2
    exit 3
fi
if [ -d "$MEDIA_ROOT" ] && [ -n "$(ls -A "$MEDIA_ROOT")" ]; then
    echo "!! 媒体目录 $MEDIA_ROOT 不是空的，为免覆盖现有文件已停止" >&2
    exit 3
fi
pg_restore --no-owner --no-privileges --exit-on-error --dbname="$DATABASE_URL" "$backup/db.dump"
mkdir -p "$MEDIA_ROOT"
tar -C "$MEDIA_ROOT" -xzf "$backup/media.tar.gz"
echo "已恢复：$backup"
