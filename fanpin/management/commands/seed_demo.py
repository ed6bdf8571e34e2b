from django.core.management.base import BaseCommand

from fanpin.demo import build_demo
from households.demo import format_logins


class Command(BaseCommand):
    help = "生成演示县（清河县）：乡镇、村、约 600 户农户及成员、三年收入，以及演示登录账号。重复运行不会重复生成。"

    def add_arguments(self, parser):
        parser.add_argument("--reset", action="store_true", help="清除演示县的登记数据后重新生成")
        parser.add_argument("--households-per-village", type=int, default=50, help="每个村生成的农户数（默认 50）")

    def handle(self, *args, reset, households_per_village, **options):
        logins = build_demo(stdout=self.stdout, households_per_village=households_per_village, reset=reset)
        self.stdout.write("\n演示登录账号：\n" + format_logins(logins))
