"""Copy the browser libraries package.json pins (installed by `npm ci`) into static/vendor/, each with its
LICENSE beside it. static/vendor/ is git-ignored: the library's code is never committed, only shipped."""
from __future__ import annotations

import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NODE_MODULES = ROOT / "node_modules"
VENDOR = ROOT / "static" / "vendor"

# package: [(file in the package, name in static/vendor/)], its LICENSE included.
FILES = {
    "fflate": [("esm/browser.js", "fflate.js"), ("LICENSE", "fflate.LICENSE")],
}


def main() -> int:
    VENDOR.mkdir(parents=True, exist_ok=True)
    for package, files in FILES.items():
        for source, target in files:
            path = NODE_MODULES / package / source
            if not path.is_file():
                print(f"{path} is missing: run `npm ci` first", file=sys.stderr)
                return 1
            shutil.copyfile(path, VENDOR / target)
    return 0


if __name__ == "__main__":
    sys.exit(main())
