from django.core.management.base import BaseCommand, CommandError

from households.models import Area
from screening import services, warning_services


class Command(BaseCommand):
    help = "运行平台预警规则（收入低于监测线、收入大幅下降、刚性支出超过收入），按月份，可重复运行"

    def add_arguments(self, parser):
        parser.add_argument("--period", required=True, help="数据月份，如 2026-01")
        parser.add_argument("--county", help="只运行一个县（名称或行政区划代码）")

    def handle(self, *args, period, county=None, **options):
        try:
            day = services.parse_period(period)
        except Exception as error:  # ValidationError with a Chinese message
            raise CommandError(getattr(error, "messages", [str(error)])[0]) from None
        area = None
        if county:
            area = (
                Area.objects.filter(level=Area.Level.COUNTY, name=county).first()
                or Area.objects.filter(level=Area.Level.COUNTY, code=county).first()
            )
            if area is None:
                raise CommandError(f"没有找到县：{county}")
        result = warning_services.run_platform_rules(period=day, county=area)
        self.stdout.write(
            f"{period}：新增预警 {result.created} 条，补充证据 {result.merged} 条，未变 {result.unchanged} 条"
        )
