#!/usr/bin/env bash
# What `make test` needs from the system beyond Python: Debian's Chromium and ChromeDriver for the
# browser tests, a small CJK font (the notebooks' Chinese section titles would otherwise show as
# empty boxes in the browser), and npm for the site's JavaScript (`make assets`). Installs what is
# missing with apt-get (one `apt-get update`), which needs root; does nothing when all is there.
# Without root or apt-get it installs nothing and says so: the tests that need what is missing
# then skip with the reason (and fail under CI=true).
set -euo pipefail
missing=()
[ -x /usr/bin/chromium ] || missing+=(chromium)
[ -x /usr/bin/chromedriver ] || missing+=(chromium-driver)
{ command -v fc-list >/dev/null && [ -n "$(fc-list :lang=zh family)" ]; } || missing+=(fonts-wqy-microhei)
command -v npm >/dev/null || missing+=(npm)
# mdpo's markdown parser, pymd4c, has wheels up to Python 3.11 only; on 3.12+ (the Python named
# as the first argument: make passes $(PYTHON)) pip builds it against md4c's C library.
if "${1:-python3}" -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null; then
    [ -e /usr/include/md4c-html.h ] || missing+=(libmd4c-dev libmd4c-html0-dev pkg-config)
fi
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null; then
    echo "not installed (needs root and apt-get): ${missing[*]}; the tests that need them will skip" >&2
    exit 0
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends "${missing[@]}"
