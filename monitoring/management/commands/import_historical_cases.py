"""Bring in cases determined before the county used fanpin, from a CSV file (UTF-8, with or
without BOM), each row through services.case_import_historical as the given county officer."""

import csv

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.http import Http404

from households.models import Household
from monitoring import services
from monitoring.forms import HistoricalCaseForm

COLUMNS = {
    "户编号": "household_number",
    "发现渠道": "channel",
    "发现日期": "discovered_on",
    "申报理由": "reason",
    "监测对象类别": "category",
    "主要风险类型": "primary_risk",
    "次要风险类型": "secondary_risks",
    "其他风险说明": "risk_note",
    "认定日期": "determined_on",
    "认定文号": "document_number",
    "补录说明": "comment",
}


class Command(BaseCommand):
    help = (
        "补录历史监测对象（系统启用前已认定）：CSV 文件，列为 "
        + "、".join(COLUMNS)
        + "（或对应的英文字段名；类别、风险类型、渠道填代码，次要风险用顿号分隔），以 --user 指定的县级人员身份逐行补录。"
    )

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument("--user", required=True, help="县乡村振兴局人员的用户名")

    def handle(self, *args, file, user, **options):
        officer = get_user_model().objects.filter(username=user).first()
        if officer is None:
            raise CommandError(f"没有用户 {user}。")
        with open(file, encoding="utf-8-sig", newline="") as handle:
            rows = list(csv.DictReader(handle))
        failed = 0
        for number, row in enumerate(rows, start=2):
            data = {COLUMNS.get(k.strip(), k.strip()): (v or "").strip() for k, v in row.items() if k}
            household = Household.objects.filter(number=data.pop("household_number", "")).first()
            risks = [r for r in data.pop("secondary_risks", "").replace(",", "、").split("、") if r]
            form = HistoricalCaseForm(
                {**data, "household": household.pk if household else "", "secondary_risks": risks},
                households=Household.objects.filter(pk=household.pk) if household else Household.objects.none(),
            )
            try:
                if not form.is_valid():
                    raise ValidationError(
                        {k: [e["message"] for e in v] for k, v in form.errors.get_json_data().items()}
                    )
                case = services.case_import_historical(user=officer, **form.cleaned_data)
            except (ValidationError, PermissionDenied, Http404) as exc:
                failed += 1
                messages = exc.messages if isinstance(exc, ValidationError) else [str(exc) or "农户不在管辖范围内。"]
                self.stdout.write(f"第 {number} 行：" + "；".join(messages))
            else:
                self.stdout.write(f"第 {number} 行：已补录 {case.household.number}（{case.document_number}）")
        self.stdout.write(f"共 {len(rows)} 行，补录 {len(rows) - failed} 行，失败 {failed} 行。")
        if failed:
            raise SystemExit(1)
