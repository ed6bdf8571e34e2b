import pytest


@pytest.fixture(autouse=True)
def _uploads_in_tmp(settings, tmp_path, monkeypatch):
    """Uploaded files go to a temporary folder; the environment carries it to a real worker."""
    settings.MEDIA_ROOT = tmp_path
    monkeypatch.setenv("MEDIA_ROOT", str(tmp_path))
