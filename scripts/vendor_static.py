"""Copy the browser libraries the portal serves from node_modules/ into static/vendor/<package>/.

Each package of package.json's "dependencies" lists the files the pages need, and its licence is
copied beside them. Nothing is built or changed: the files are served as the registry published
them (`npm ci` installs exactly what package-lock.json pins). Run by `make install`, `make test`,
`make demo` (through the Makefile's vendor rule) and before building a wheel.

    python scripts/vendor_static.py           copy (the default)
    python scripts/vendor_static.py --check   exit 1 and name what is missing or stale in static/vendor/
"""
from __future__ import annotations

import argparse
import filecmp
import json
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MODULES = ROOT / "node_modules"
VENDOR = ROOT / "static" / "vendor"

# package name -> (file in the package, where it goes in static/vendor/), its licence included.
FILES = {
    "fflate": [("LICENSE", "fflate.LICENSE"), ("esm/browser.js", "fflate.js")],
    "uplot": [("LICENSE", "uplot/LICENSE"), ("dist/uPlot.esm.js", "uplot/uPlot.esm.js"),
              ("dist/uPlot.min.css", "uplot/uPlot.min.css")],
}


class VendorError(Exception):
    """A package or one of its files is not where the list says (npm ci not run, or a package changed)."""


def pinned_packages() -> dict[str, str]:
    """The "dependencies" of package.json: the browser libraries, name -> exact version."""
    return json.loads((ROOT / "package.json").read_text(encoding="utf-8")).get("dependencies", {})


def planned_copies() -> list[tuple[Path, Path]]:
    """(source in node_modules, destination in static/vendor) for every listed file; VendorError when
    package.json and this list disagree or a package is not installed at its pinned version."""
    pinned = pinned_packages()
    if set(pinned) != set(FILES):
        raise VendorError(f"package.json dependencies {sorted(pinned)} and the vendored list {sorted(FILES)} differ: "
                          "list each dependency's served files in scripts/vendor_static.py")
    copies = []
    for package, paths in FILES.items():
        folder = MODULES / package
        manifest = folder / "package.json"
        if not manifest.is_file():
            raise VendorError(f"{package} is not installed: run `npm ci`")
        version = json.loads(manifest.read_text(encoding="utf-8")).get("version")
        if version != pinned[package]:
            raise VendorError(f"{package} {version} is installed but package.json pins {pinned[package]}: run `npm ci`")
        for path, target in paths:
            source = folder / path
            if not source.is_file():
                raise VendorError(f"{package} has no {path}")
            copies.append((source, VENDOR / target))
    return copies


def stale(copies) -> list[Path]:
    return [target for source, target in copies if not target.is_file() or not filecmp.cmp(source, target, shallow=False)]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only say whether static/vendor/ is up to date")
    args = parser.parse_args(argv)
    try:
        copies = planned_copies()
    except VendorError as error:
        print(f"vendor_static: {error}", file=sys.stderr)
        return 1
    if args.check:
        missing = stale(copies)
        for target in missing:
            print(f"vendor_static: {target.relative_to(ROOT)} is missing or stale", file=sys.stderr)
        return 1 if missing else 0
    wanted = {target for _, target in copies}
    for old in VENDOR.rglob("*") if VENDOR.is_dir() else []:
        if old.is_file() and old not in wanted and not old.name.startswith("."):
            old.unlink()  # a file a previous version listed
    for source, target in copies:
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)
    print(f"vendor_static: {len(copies)} files in {VENDOR.relative_to(ROOT)}/")
    return 0


if __name__ == "__main__":
    sys.exit(main())
