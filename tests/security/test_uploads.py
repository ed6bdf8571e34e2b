"""Finding 3 of issue 14: every upload is limited in size and checked by content; images are
re-encoded, PDFs must open, anything else is refused with a Chinese message."""

import datetime
import io
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image
from rest_framework.test import APIClient

from monitoring import services
from monitoring.models import CaseEvent, MonitoringCase, VisitPhoto
from tests import factories as f

HTML = b"<!DOCTYPE html><html><body><script>alert(document.cookie)</script></body></html>"


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def api(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


def post_visit(world, *photos):
    return api(world.village_cadre).post(
        "/api/visits/",
        {"household": world.household_a1.pk, "visitors": "张三、李四", "photos": list(photos)},
        format="multipart",
    )


def test_html_named_png_is_refused_as_a_visit_photo(world, media):
    response = post_visit(world, SimpleUploadedFile("x.png", HTML, content_type="image/png"))
    assert response.status_code == 400
    assert "不是可以识别的图片" in str(response.json()["photos"])
    assert not VisitPhoto.objects.exists()


def test_an_oversized_photo_is_refused_with_the_limit(world, media, settings):
    big = SimpleUploadedFile("big.jpg", b"\xff\xd8\xff" + b"\0" * (settings.UPLOAD_MAX_IMAGE_MB * 1024 * 1024 + 1))
    response = post_visit(world, big)
    assert response.status_code == 400
    assert f"不能超过 {settings.UPLOAD_MAX_IMAGE_MB} MB" in str(response.json()["photos"])
    assert not VisitPhoto.objects.exists()


def test_a_decompression_bomb_is_refused(world, media):
    out = io.BytesIO()
    Image.new("1", (12000, 12000)).save(out, "PNG")  # tiny file, 144 megapixels
    response = post_visit(world, SimpleUploadedFile("bomb.png", out.getvalue()))
    assert response.status_code == 400
    assert not VisitPhoto.objects.exists()


def test_a_real_photo_is_stored_re_encoded_without_its_exif_and_served_as_an_image(world, media, client):
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    out = io.BytesIO()
    Image.new("RGB", (80, 60), (10, 200, 30)).save(out, "JPEG", exif=exif.tobytes())
    original = out.getvalue() + HTML  # bytes after the image end must not survive either
    response = post_visit(world, SimpleUploadedFile("现场.jpg", original, content_type="image/jpeg"))
    assert response.status_code == 201, response.json()
    photo = VisitPhoto.objects.get()
    stored = photo.image.read()
    assert stored != original and HTML not in stored
    with Image.open(io.BytesIO(stored)) as image:
        assert image.format == "JPEG" and image.size == (80, 60)
        assert not image.getexif()
    client.force_login(world.village_cadre)
    served = client.get(f"/visits/photos/{photo.pk}/")
    assert served.status_code == 200
    assert served["Content-Type"] == "image/jpeg"


def _report(world):
    return services.case_create(
        user=world.village_cadre,
        household=world.household_a1,
        channel="cadre_visit",
        discovered_on=datetime.date.today(),
        reason="突发大病",
    )


def _start_appraisal(world, case, **files):
    return api(world.village_cadre).post(
        f"/api/cases/{case.pk}/transitions/start_appraisal/",
        {
            "home_check_on": datetime.date.today().isoformat(),
            "home_checkers": "张三、李四",
            "commitment_signed_on": datetime.date.today().isoformat(),
            **files,
        },
        format="multipart",
    )


def _zip(names):
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as package:
        for name in names:
            package.writestr(name, "x")
    return out.getvalue()


@pytest.mark.parametrize(
    "name, data, message",
    [
        ("承诺书.pdf", HTML, "不是有效的 PDF"),
        ("承诺书.pdf", b"%PDF-1.4 not really", "不是有效的 PDF"),
        ("承诺书.jpg", HTML, "不是可以识别的图片"),
        ("承诺书.docx", HTML, "内容与其扩展名"),
        ("承诺书.docx", _zip(["word/document.xml"]), "内容与其扩展名"),
        ("承诺书.doc", HTML, "内容与其扩展名"),
        ("承诺书.html", HTML, "不支持该文件类型"),
    ],
)
@pytest.mark.parametrize("field", ["commitment_scan", "attachment"])
def test_scans_and_evidence_are_checked_by_content(world, media, field, name, data, message):
    case = _report(world)
    response = _start_appraisal(world, case, **{field: SimpleUploadedFile(name, data)})
    assert response.status_code == 400
    assert message in str(response.json()[field])
    case = MonitoringCase.objects.get(pk=case.pk)
    assert case.state == "reported" and not case.commitment_scan
    assert not CaseEvent.objects.filter(case=case, action="start_appraisal").exists()


def test_real_pdf_image_and_office_scans_are_accepted(world, media):
    case = _report(world)
    response = _start_appraisal(
        world,
        case,
        commitment_scan=f.pdf_upload("承诺书.pdf"),
        attachment=SimpleUploadedFile("记录.docx", _zip(["[Content_Types].xml", "word/document.xml"])),
    )
    assert response.status_code == 200, response.json()
    case = MonitoringCase.objects.get(pk=case.pk)
    assert case.commitment_scan.read().startswith(b"%PDF-")


def test_an_oversized_document_is_refused(world, media, settings):
    settings.UPLOAD_MAX_DOCUMENT_MB = 1
    case = _report(world)
    big = SimpleUploadedFile("承诺书.pdf", f.pdf_bytes() + b"\0" * (1024 * 1024))
    response = _start_appraisal(world, case, commitment_scan=big)
    assert response.status_code == 400
    assert "不能超过 1 MB" in str(response.json()["commitment_scan"])
