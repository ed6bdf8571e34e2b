import pytest


@pytest.fixture(autouse=True)
def _uploads_in_tmp(settings, tmp_path, monkeypatch):
    """Uploaded files (import jobs keep theirs) go to a temporary folder, never the working tree;
    the environment carries it to a real worker process a test may start."""
    settings.MEDIA_ROOT = tmp_path
    monkeypatch.setenv("MEDIA_ROOT", str(tmp_path))
