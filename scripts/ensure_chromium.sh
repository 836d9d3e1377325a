#!/usr/bin/env bash
# Install what the browser tests (tests/test_browser.py) need when it is missing: Debian's
# Chromium and ChromeDriver, and a small CJK font (the notebooks' Chinese section titles would
# show as empty boxes in the screenshots). Needs root and apt-get; does nothing when all is there.
set -euo pipefail
have_cjk_font() { command -v fc-list >/dev/null && [ -n "$(fc-list :lang=zh family)" ]; }
if [ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ] && have_cjk_font; then
    exit 0
fi
if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null; then
    echo "cannot install chromium: needs root and apt-get" >&2
    exit 2
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends chromium chromium-driver fonts-wqy-microhei
