#!/usr/bin/env bash
# Install headless Chromium for tests/test_report_browser.py (the test drives it over the Chrome
# DevTools Protocol; chromium-driver is installed too for anyone who prefers selenium).
# Debian/Ubuntu only; needs root or sudo. Idempotent: does nothing when Chromium is already there.
#   usage: tools/install_browser.sh            (VIDREWARD_CHROMIUM=/path/to/chrome overrides detection)
set -euo pipefail

find_browser() {
    if [[ -n "${VIDREWARD_CHROMIUM:-}" ]] && command -v "$VIDREWARD_CHROMIUM" >/dev/null 2>&1; then
        command -v "$VIDREWARD_CHROMIUM"; return 0
    fi
    for name in chromium chromium-browser google-chrome google-chrome-stable; do
        if command -v "$name" >/dev/null 2>&1; then command -v "$name"; return 0; fi
    done
    return 1
}

if browser=$(find_browser); then
    echo "install_browser: found $browser ($("$browser" --version 2>/dev/null | head -n1))"
    exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
    echo "install_browser: no Chromium and no apt-get; install Chromium yourself and/or set" \
         "VIDREWARD_CHROMIUM (the browser test skips until then)" >&2
    exit 1
fi

SUDO=""
if [[ $(id -u) -ne 0 ]]; then
    if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
        echo "install_browser: need root (or sudo) to apt-get install chromium" >&2; exit 1
    fi
fi

export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq chromium chromium-driver

browser=$(find_browser) || { echo "install_browser: chromium still not on PATH" >&2; exit 1; }
echo "install_browser: installed $browser ($("$browser" --version 2>/dev/null | head -n1))"
