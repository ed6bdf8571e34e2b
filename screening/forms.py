from django import forms

from households.spreadsheets import SUPPORTED_EXTENSIONS

from .services import MAX_UPLOAD_BYTES


class UploadForm(forms.Form):
    department = forms.TypedChoiceField(label="部门", coerce=int, required=False)
    period = forms.CharField(
        label="数据月份",
        widget=forms.DateInput(attrs={"type": "month", "placeholder": "2026-01"}),
        error_messages={"required": "请填写数据月份（YYYY-MM）。"},
    )
    file = forms.FileField(
        label="部门数据文件",
        help_text="支持 .xlsx、.xls、.csv（UTF-8 或 GBK 编码）和制表符分隔的 .txt，不超过 200 MB。",
        widget=forms.ClearableFileInput(attrs={"accept": ".xlsx,.xlsm,.xls,.csv,.txt"}),
        error_messages={"required": "请选择要上传的文件。"},
    )

    def __init__(self, *args, departments=(), **kwargs):
        super().__init__(*args, **kwargs)
        departments = list(departments)
        if len(departments) > 1:
            self.fields["department"].choices = [("", "请选择部门")] + [(d.pk, str(d)) for d in departments]
            self.fields["department"].required = True
            self.fields["department"].error_messages["required"] = "请选择部门。"
        else:
            del self.fields["department"]
        self.departments = {d.pk: d for d in departments}

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if not upload.name.lower().endswith(SUPPORTED_EXTENSIONS):
            raise forms.ValidationError("只支持 .xlsx、.xls、.csv 和 .txt（制表符分隔）文件。")
        if upload.size > MAX_UPLOAD_BYTES:
            raise forms.ValidationError("文件超过 200 MB，请分批上传。")
        return upload

    def chosen_department(self):
        if "department" in self.fields:
            return self.departments.get(self.cleaned_data["department"])
        return next(iter(self.departments.values()), None)
