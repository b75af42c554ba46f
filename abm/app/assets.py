"""The browser files the workshop app needs, kept where Solara serves them from, so that the
app works with no internet.

Solara's page loads its JavaScript, CSS and fonts through its CDN proxy, which serves them
from a cache folder (``<sys.prefix>/share/solara/cdn/``) and fetches from the internet only
what the cache lacks. The ``solara-assets`` package fills that cache when it is installed;
this module checks that every package the app needs is there and, at install time only
(``make`` runs ``python -m abm.app.assets``), fetches any that is missing with ``npm pack``.
Nothing is fetched when the app starts. DEVELOPERS.md lists what was checked.

Charts are drawn with matplotlib on the server, so the Vega packages Solara uses for Altair
charts are not needed.
"""

from __future__ import annotations

import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

#: npm packages, as Solara 1.64.1 asks for them (the folder names must be exactly these).
PACKAGES = (
    "@widgetti/solara-vuetify-app@10.1.1",  # Solara's Vue 2 front end
    "@widgetti/vue-grid-layout@2.3.13-alpha.2",
    "requirejs@2.3.6",
    "font-awesome@4.5.0",
)


def cache_dir() -> Path:
    """The folder Solara's CDN proxy serves from."""
    import solara.server.settings

    return Path(solara.server.settings.assets.proxy_cache_dir)


def missing() -> list[str]:
    """The packages in :data:`PACKAGES` that the cache lacks."""
    return [p for p in PACKAGES if not (cache_dir() / p / "package.json").is_file()]


def fill() -> list[str]:
    """Fetch each missing package with ``npm pack`` into the cache; return those fetched."""
    fetched = []
    for package in missing():
        with tempfile.TemporaryDirectory() as tmp:
            subprocess.run(["npm", "pack", package, "--silent"], cwd=tmp, check=True,
                           stdout=subprocess.DEVNULL)
            (tarball,) = Path(tmp).glob("*.tgz")
            with tarfile.open(tarball) as archive:
                archive.extractall(tmp, filter="data")
            target = cache_dir() / package
            target.parent.mkdir(parents=True, exist_ok=True)
            (Path(tmp) / "package").rename(target)
        fetched.append(package)
    return fetched


def main() -> int:
    fetched = fill()
    for package in fetched:
        print(f"abm.app.assets: fetched {package} into {cache_dir()}")
    print(f"abm.app.assets: the workshop app's browser files are in {cache_dir()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
