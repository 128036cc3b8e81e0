#!/usr/bin/env bash
# Installs the system packages the observatoire needs, only when they are missing.
#   setup-system.sh postgis   PostgreSQL + PostGIS (the product runs its own cluster from these binaries)
#   setup-system.sh browser   Chromium + chromedriver (browser tests)
#   setup-system.sh python    python3-venv
#   setup-system.sh gdal      ogr2ogr (the peer of the import benchmarks)
#   setup-system.sh pdf       Pango and fonts for WeasyPrint (PDF exports), poppler-utils (tests look at PDF pages)
set -euo pipefail

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
updated=0
apt_install() {
  if ! command -v apt-get >/dev/null 2>&1; then
    echo "Paquets manquants : $*. Installez-les avec le gestionnaire de paquets de votre système." >&2
    exit 1
  fi
  if [ "$updated" -eq 0 ]; then $SUDO apt-get update -qq; updated=1; fi
  echo "Installation de : $*"
  $SUDO apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

has_postgis() { ls /usr/share/postgresql/*/extension/postgis.control >/dev/null 2>&1 && ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; }

for what in "$@"; do
  case "$what" in
    postgis)
      if ! has_postgis; then
        version=$(ls /usr/lib/postgresql 2>/dev/null | sort -n | tail -1 || true)
        if [ -z "$version" ]; then
          [ "$updated" -eq 0 ] && { $SUDO apt-get update -qq; updated=1; }
          version=$(apt-cache depends postgresql 2>/dev/null | grep -o 'postgresql-[0-9]\+' | head -1 | cut -d- -f2)
        fi
        apt_install "postgresql-${version}" "postgresql-${version}-postgis-3" postgresql-contrib
      fi
      ;;
    browser)
      if ! command -v chromedriver >/dev/null 2>&1 || ! { command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1; }; then
        apt_install chromium chromium-driver fonts-dejavu-core
      fi
      ;;
    python)
      if ! python3 -c "import ensurepip, venv" >/dev/null 2>&1; then
        apt_install python3-venv python3-pip
      fi
      ;;
    gdal)
      if ! command -v ogr2ogr >/dev/null 2>&1; then
        apt_install gdal-bin
      fi
      ;;
    pdf)
      if ! ldconfig -p 2>/dev/null | grep -q libpango-1.0 || ! command -v pdftoppm >/dev/null 2>&1; then
        apt_install libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core poppler-utils
      fi
      ;;
    *) echo "usage: $0 postgis|browser|python|gdal|pdf ..." >&2; exit 2 ;;
  esac
done
