"""python manage.py import_households FILE [--user USERNAME]

Without --user the import runs with administrator scope (every village of the deployment):
the command is for the people who run the server. With --user it is bound to that user's
write scope exactly as the upload page is. Exit status 0 when every row was imported, 1
when any household was rejected (the report is printed either way).
"""

import sys
from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from households import importer, selectors


class Command(BaseCommand):
    help = "从 .xlsx / .xls / .csv / .txt（制表符分隔）文件批量导入农户和家庭成员（不指定 --user 时按系统管理员权限导入）。"

    def add_arguments(self, parser):
        parser.add_argument("file", help="要导入的文件路径（.xlsx、.xls、.csv 或 .txt）")
        parser.add_argument("--user", help="按该用户的权限范围导入（默认：系统管理员权限）")

    def handle(self, *args, file, user=None, **options):
        acting = None
        if user:
            try:
                acting = get_user_model().objects.get(username=user)
            except get_user_model().DoesNotExist:
                raise CommandError(f"用户 {user} 不存在。") from None
            if not selectors.villages_writable_by(acting).exists():
                raise CommandError(f"用户 {user} 没有登记农户的权限。")
        path = Path(file)
        try:
            with path.open("rb") as handle:
                report = importer.import_registry(handle, path.name, user=acting)
        except OSError as exc:
            raise CommandError(f"无法打开文件 {file}：{exc.strerror or exc}") from None
        except importer.ImportFileError as exc:
            raise CommandError(str(exc)) from None
        for line in report.lines():
            self.stdout.write(line)
        if not report.ok:
            self.stdout.flush()
            sys.exit(1)
