#!/usr/bin/env bash
# Back up the database (pg_dump, custom format) and the media folder (uploaded files) into
# one timestamped directory: BACKUP_DIR/fanpin-YYYYmmdd-HHMMSS/{db.dump,media.tar.gz,SHA256SUMS}.
# Keeps the newest BACKUP_KEEP (default 14) backups. Schedule it daily (README "Backups").
#   DATABASE_URL=postgres://… MEDIA_ROOT=/srv/fanpin/media BACKUP_DIR=/srv/backups bash scripts/backup.sh
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

: "${DATABASE_URL:?DATABASE_URL must name the PostgreSQL database to back up}"
BACKUP_DIR="${BACKUP_DIR:-var/backups}"
MEDIA_ROOT="${MEDIA_ROOT:-media}"
KEEP="${BACKUP_KEEP:-14}"
case "$DATABASE_URL" in postgres://*|postgresql://*) ;; *) echo "!! 只支持 PostgreSQL 的 DATABASE_URL" >&2; exit 2 ;; esac

stamp="$(date -u +%Y%m%d-%H%M%S)"
target="$BACKUP_DIR/fanpin-$stamp"
partial="$target.partial"
mkdir -p "$partial"
pg_dump --format=custom --no-owner --no-privileges --dbname="$DATABASE_URL" --file="$partial/db.dump"
if [ -d "$MEDIA_ROOT" ]; then
    tar -C "$MEDIA_ROOT" -czf "$partial/media.tar.gz" .
else
    tar -czf "$partial/media.tar.gz" --files-from /dev/null
fi
(cd "$partial" && sha256sum db.dump media.tar.gz > SHA256SUMS)
mv "$partial" "$target"  # a backup directory without .partial is complete
echo "$target"

# Keep the newest $KEEP complete backups.
ls -1d "$BACKUP_DIR"/fanpin-* 2>/dev/null | grep -v '\.partial$' | sort | head -n "-$KEEP" | while read -r old; do
    rm -rf -- "$old"
done
