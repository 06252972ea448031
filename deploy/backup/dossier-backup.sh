#!/usr/bin/env bash
# Nightly backup of a several-offices installation (run by dossier-backup.timer on the server machine).
#
# What matters, and what this does about it:
#   1. The store (S3 bucket): every case, evidence file, packet and the audit log, all encrypted
#      except the audit entries (ids and hashes only). Mirrored here to a second S3 bucket/service.
#   2. The offline recovery key: an age identity kept OFFLINE (paper / hardware token), listed in
#      keys/recipients.txt. With the store copy and it, every case can be opened without this
#      installation. Nothing here touches it: check once a year that it still opens a case key.
#   3. Prefect's PostgreSQL database: run history only (ids, states), no personal data; convenient,
#      not essential. A pg_dump is kept 14 days.
# The organisation identity (org-identity.txt) is NOT copied by this script: it lives on workers only,
# and its backup is the offline recovery key above.
set -euo pipefail
: "${BACKUP_DIR:=/var/backups/dossier}"
: "${PGDATABASE:=prefect}"
: "${BACKUP_S3_TARGET:?set BACKUP_S3_TARGET, e.g. s3://dossier-backup (a bucket with Object Lock)}"
umask 077
mkdir -p "$BACKUP_DIR"
stamp=$(date -u +%Y%m%dT%H%M%SZ)

# 3. Prefect's database (custom format; restore with pg_restore -d prefect FILE).
pg_dump --format=custom --file="$BACKUP_DIR/prefect-$stamp.dump" "$PGDATABASE"
find "$BACKUP_DIR" -name 'prefect-*.dump' -mtime +14 -delete

# 1. The store: copy new objects only (objects are written once and never changed; audit/ last).
#    rclone (Debian `rclone`) with two remotes configured in /etc/dossier/rclone.conf.
rclone --config /etc/dossier/rclone.conf copy --immutable store:dossier "backup:${BACKUP_S3_TARGET#s3://}" --exclude 'audit/**'
rclone --config /etc/dossier/rclone.conf copy --immutable store:dossier/audit "backup:${BACKUP_S3_TARGET#s3://}/audit"

# Prove the copy: the audit chain verifies against the backup with read-only credentials.
DOSSIER_STORE="$BACKUP_S3_TARGET?endpoint=${BACKUP_S3_ENDPOINT:-}" \
AWS_ACCESS_KEY_ID="$BACKUP_AUDITOR_KEY_ID" AWS_SECRET_ACCESS_KEY="$BACKUP_AUDITOR_SECRET" \
  /opt/dossier/.venv/bin/dossier audit verify
