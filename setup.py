"""The wheel carries the site's templates/ and static/ inside the portal package.

They stay at the top of the repository, beside portal/; the build copies them to portal/templates/
and portal/static/ (static/vendor/ too, the browser libraries the npm build step copied there).
An editable install leaves them where they are and the portal finds them in the checkout.
"""
import os

from setuptools import setup
from setuptools.command.build_py import build_py

SITE_FOLDERS = ("templates", "static")


class BuildPyWithSiteFolders(build_py):
    def run(self):
        super().run()
        if getattr(self, "editable_mode", False):
            return
        here = os.path.dirname(os.path.abspath(__file__))
        for folder in SITE_FOLDERS:
            source = os.path.join(here, folder)
            if not os.path.isdir(source):
                raise SystemExit(f"{source} is missing: the wheel would serve no pages")
            self.copy_tree(source, os.path.join(self.build_lib, "portal", folder))


setup(cmdclass={"build_py": BuildPyWithSiteFolders})
