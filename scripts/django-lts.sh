#!/usr/bin/env bash
# Installs Django 4.2 LTS (Debian trixie) and 5.2 LTS (Debian sid, with sid's asgiref) beside the
# system's Django 3.2, for the Django version matrix of the tests (packages/django/test/django-versions.ts)
# and the example (DJANGO_VERSION=4.2|5.2). Nothing of the system's apt sources or packages changes:
# a private apt configuration downloads the .deb files, and dpkg-deb unpacks them into a cache folder
# that persists between runs on the same machine:
#   $SB_DJANGO_CACHE/<4.2|5.2>/usr/lib/python3/dist-packages   (PYTHONPATH for /usr/bin/python3)
#   $SB_DJANGO_CACHE/<4.2|5.2>/VERSION                          (written last: the version is complete)
# Usage: scripts/django-lts.sh [4.2] [5.2]   (no argument: both). Safe to run concurrently (flock).
set -euo pipefail
cache="${SB_DJANGO_CACHE:-/var/cache/sessionbridge-django}"
versions=("$@")
[ "${#versions[@]}" -gt 0 ] || versions=(4.2 5.2)
mkdir -p "$cache"
exec 9>"$cache/.lock"
flock 9

suite_of() { case "$1" in 4.2) echo trixie ;; 5.2) echo sid ;; *) echo "unknown Django version $1" >&2; return 1 ;; esac; }
# asgiref: bookworm's 3.6 satisfies 4.2; 5.2 needs >= 3.8.1, so it comes from the same suite.
packages_of() { case "$1" in 4.2) echo python3-django ;; 5.2) echo python3-django python3-asgiref ;; esac; }

work=""
trap '[ -n "$work" ] && rm -rf "$work"' EXIT
for v in "${versions[@]}"; do
  suite=$(suite_of "$v")
  if [ -s "$cache/$v/VERSION" ]; then
    echo "django-lts: Django $(cat "$cache/$v/VERSION") ready in $cache/$v"
    continue
  fi
  work=$(mktemp -d)
  mkdir -p "$work/lists/partial" "$work/cache/archives/partial" "$work/root"
  uri=$(awk '/^URIs:/{print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)
  [ -n "$uri" ] || uri=$(awk '/^deb /{print $2; exit}' /etc/apt/sources.list)
  echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $uri $suite main" >"$work/sources.list"
  apt_opts=(-o "Dir::Etc::SourceList=$work/sources.list" -o Dir::Etc::SourceParts=/dev/null
    -o "Dir::State::Lists=$work/lists" -o "Dir::Cache=$work/cache" -o Debug::NoLocking=1 -o APT::Sandbox::User=root)
  ok=0
  for attempt in 1 2 3; do
    if apt-get "${apt_opts[@]}" -qq update && (cd "$work" && apt-get "${apt_opts[@]}" -qq download $(packages_of "$v")); then
      ok=1
      break
    fi
    echo "django-lts: download of Django $v failed (attempt $attempt)" >&2
    sleep $((attempt * 5))
  done
  [ "$ok" = 1 ] || exit 1
  for deb in "$work"/*.deb; do dpkg-deb -x "$deb" "$work/root"; done
  site="$work/root/usr/lib/python3/dist-packages"
  # Read, not imported: the system's asgiref may still be installing when CI runs this in the background.
  got=$(sed -n 's/^VERSION = (\([0-9]*\), \([0-9]*\), \([0-9]*\),.*/\1.\2.\3/p' "$site/django/__init__.py")
  case "$got" in "$v".*) ;; *) echo "django-lts: $suite gave Django $got, not $v.x" >&2; exit 1 ;; esac
  rm -rf "$cache/$v.tmp" "$cache/$v"
  mv "$work/root" "$cache/$v.tmp"
  echo "$got" >"$cache/$v.tmp/VERSION"
  mv "$cache/$v.tmp" "$cache/$v"
  rm -rf "$work"
  work=""
  echo "django-lts: Django $got installed in $cache/$v"
done
