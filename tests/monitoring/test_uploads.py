"""Uploaded evidence is limited to documents and images, and served back safely."""

import datetime

from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from monitoring import services
from monitoring.models import CaseEvent
from tests import factories as f
from tests.monitoring.cases import commitment_scan


def _report(world):
    return services.case_create(
        user=world.village_cadre,
        household=world.household_a1,
        channel="cadre_visit",
        discovered_on=datetime.date.today(),
        reason="突发大病",
    )


def _start_appraisal(world, case, upload):
    return services.case_transition(
        user=world.village_cadre,
        case_id=case.pk,
        name="start_appraisal",
        data={
            "home_check_on": datetime.date.today(),
            "home_checkers": "张三、李四",
            "commitment_signed_on": datetime.date.today(),
        },
        files={"attachment": upload, "commitment_scan": commitment_scan()},
    )


def test_a_web_page_cannot_be_uploaded_as_evidence(world):
    case = _report(world)
    page = SimpleUploadedFile("minutes.html", b"<script>alert(1)</script>", content_type="text/html")
    try:
        _start_appraisal(world, case, page)
    except services.ValidationError as exc:
        assert "不支持该文件类型" in str(exc.message_dict["attachment"])
    else:
        raise AssertionError("an HTML upload was accepted")
    case.refresh_from_db()
    assert case.state == "reported"


def test_a_pdf_opens_in_the_browser_and_a_word_file_downloads(world, client, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    case = _report(world)
    _start_appraisal(world, case, f.pdf_upload("纪要.pdf"))
    pdf_event = CaseEvent.objects.get(case=case, action="start_appraisal")
    client.force_login(world.village_cadre)
    response = client.get(reverse("monitoring:event-attachment", args=[case.pk, pdf_event.pk]))
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("inline")
    assert response["X-Content-Type-Options"] == "nosniff"

    CaseEvent.objects.filter(pk=pdf_event.pk).update(attachment="case-events/纪要.docx")
    (tmp_path / "case-events").mkdir(exist_ok=True)
    (tmp_path / "case-events" / "纪要.docx").write_bytes(b"PK")
    response = client.get(reverse("monitoring:event-attachment", args=[case.pk, pdf_event.pk]))
    assert response["Content-Disposition"].startswith("attachment")
