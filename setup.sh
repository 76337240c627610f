#!/usr/bin/env bash
# Set up the project on a fresh Debian machine with Python 3.11, then do one job:
#   ./setup.sh run  [extra arguments for `python -m model run`]   run the shipped scenarios
#   ./setup.sh test [extra arguments for pytest]                  run the tests
#   ./setup.sh explore [extra arguments for voila]                serve the lever explorer page
#   ./setup.sh                                                    only set up
# Set-up is idempotent: a virtual environment in .venv with the locked dependencies
# (requirements.lock), and system packages only where missing (needs root and apt-get).
set -euo pipefail
cd "$(dirname "$0")"

job="${1:-setup}"
[ $# -gt 0 ] && shift

say() { if [ -t 2 ]; then printf '\033[1m[setup]\033[0m %s\n' "$*" >&2; else printf '[setup] %s\n' "$*" >&2; fi; }

find_python() {
  for candidate in "${PYTHON:-}" python3.11 python3; do
    [ -n "$candidate" ] || continue
    if command -v "$candidate" >/dev/null 2>&1 &&
       "$candidate" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' 2>/dev/null; then
      echo "$candidate"; return 0
    fi
  done
  return 1
}

apt_install() {  # apt_install PACKAGE...: install Debian packages if we can
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    say "installing system packages: $*"
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -q --no-install-recommends "$@" >/dev/null 2>&1 ||
      { apt-get update -q >/dev/null && apt-get install -y -q --no-install-recommends "$@" >/dev/null; }
  else
    say "warning: please install these Debian packages (needs root): $*"
    return 1
  fi
}

PY=$(find_python) || { say "Python 3.11 is required (set PYTHON=/path/to/python3.11)"; exit 1; }

# --- system packages, only where missing ------------------------------------------------------
if ! "$PY" -c 'import venv, ensurepip' 2>/dev/null; then
  apt_install python3-venv || true
fi
if ! command -v fc-list >/dev/null 2>&1 || [ -z "$(fc-list :lang=zh 2>/dev/null)" ]; then
  # a CJK font, so Chinese chart labels render as text, not boxes
  if apt_install fonts-wqy-microhei fontconfig; then
    rm -f ~/.cache/matplotlib/fontlist-*.json
  fi
fi

# Pango renders the PDF briefs (WeasyPrint); harfbuzz-subset makes embedding fonts fast;
# poppler-utils (pdftotext, pdffonts, pdftoppm) lets the tests look inside a PDF.
missing=()
for pkg in libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 poppler-utils; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'ok installed' || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  apt_install "${missing[@]}" || say "warning: PDF briefs need: ${missing[*]}"
fi

# Debian's chromium: the tests look at the lever explorer page in a real browser
if ! command -v chromium >/dev/null 2>&1; then
  apt_install chromium || say "warning: the explorer page test needs Debian's chromium"
fi

# LibreOffice Writer and Calc without a GUI: the tests convert the Word brief (brief --format docx) to PDF
# and open the workbooks as a spreadsheet program does
for pkg in libreoffice-writer-nogui libreoffice-calc-nogui; do
  if ! dpkg-query -W -f='${Status}' "$pkg" "${pkg%-nogui}" 2>/dev/null | grep -q 'ok installed'; then
    apt_install "$pkg" || say "warning: the document conversion tests need $pkg"
  fi
done

# --- virtual environment with the locked dependencies -----------------------------------------
stamp=.venv/.installed-$(sha256sum requirements.lock pyproject.toml | sha256sum | cut -c1-16)
if [ ! -f "$stamp" ]; then
  [ -x .venv/bin/python ] || { say "creating .venv"; "$PY" -m venv .venv; }
  say "installing locked dependencies (requirements.lock)"
  if .venv/bin/python -m pip install -q uv >/dev/null 2>&1; then
    .venv/bin/uv pip install -q --python .venv/bin/python -r requirements.lock
    .venv/bin/uv pip install -q --python .venv/bin/python --no-deps -e .
  else
    .venv/bin/python -m pip install -q -r requirements.lock
    .venv/bin/python -m pip install -q --no-deps -e .
  fi
  rm -f .venv/.installed-*
  touch "$stamp"
fi

case "$job" in
  setup) say "ready: .venv/bin/python -m model --help" ;;
  run)   # every core up to 4 (results do not depend on the number of workers); "$@" may override
         workers=$(nproc 2>/dev/null || echo 1); [ "$workers" -gt 4 ] && workers=4
         exec .venv/bin/python -m model run scenarios/baseline.toml scenarios/plan.toml \
              scenarios/accelerated.toml scenarios/pessimistic.toml --workers "$workers" "$@" ;;
  test)  exec .venv/bin/python -m pytest -n 2 "$@" ;;
  explore) # the lever explorer as a page without code, on this machine only (forward the port over ssh)
         say "lever explorer: open http://127.0.0.1:8866/ (Ctrl-C stops it)"
         exec .venv/bin/voila notebooks/05_explore_levers.ipynb --no-browser --port=8866 --Voila.ip=127.0.0.1 "$@" ;;
  *)     say "unknown job '$job' (use: run, test, explore)"; exit 2 ;;
esac
