"""Every kind of message a page can show has its own look (static/css/app.css).

Pages show Django's messages as `msg msg-<level>` (templates/base.html) and some notices as
`msg msg-info` directly; a level without a rule renders as a plain white box, so an information
notice (文件已保存…) looked like ordinary text.
"""

import re
from pathlib import Path

from django.conf import settings
from django.contrib.messages import constants

ROOT = Path(settings.BASE_DIR)


def test_each_message_level_and_each_msg_class_in_the_templates_has_a_style():
    css = (ROOT / "static/css/app.css").read_text(encoding="utf-8")
    styled = set(re.findall(r"\.msg-([a-z]+)\s*[{,]", css))
    levels = set(constants.DEFAULT_TAGS.values()) - {"debug"}  # debug messages are never shown
    used = set()
    for template in (ROOT / "templates").rglob("*.html"):
        used |= set(re.findall(r"\bmsg-([a-z]+)\b", template.read_text(encoding="utf-8")))
    assert levels | used <= styled, f"没有样式的提示类型：{sorted((levels | used) - styled)}"
