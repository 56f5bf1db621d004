"""The README's Configuration names every environment variable the settings (and the production
web server's settings) read."""

from __future__ import annotations

import re
from pathlib import Path

from django.conf import settings

READ = re.compile(r'(?:environ\.get|environ\[|env_\w+)\(\s*"([A-Z][A-Z0-9_]*)"')


def test_every_environment_variable_the_settings_read_is_documented():
    base = Path(settings.BASE_DIR)
    read = set(READ.findall((base / "functions_ui" / "settings.py").read_text()))
    read |= set(READ.findall((base / "functions_ui" / "gunicorn_conf.py").read_text()))
    readme = (base / "README.md").read_text()
    assert len(read) > 30  # the pattern still finds them
    assert sorted(name for name in read if f"`{name}`" not in readme) == []
