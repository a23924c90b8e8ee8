"""The portal's forms (flask-wtf: CSRF on every one)."""
from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileField, MultipleFileField


class UploadForm(FlaskForm):
    document = FileField("Datapack document (.json)")
    files = MultipleFileField("Asset files")
    folder = MultipleFileField("…or a whole folder")
    archive = FileField("…or one .zip holding the document and its files")


class PendingFilesForm(FlaskForm):
    files = MultipleFileField("Files still to upload")
    folder = MultipleFileField("…or the whole folder again (only the pending files are sent)")


class ConfirmForm(FlaskForm):
    """A button-only form: it carries the CSRF token and nothing else."""
