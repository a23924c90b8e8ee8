"""Every form of the portal (flask-wtf: CSRF on each one)."""
from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired, MultipleFileField
from wtforms import HiddenField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional


class UploadForm(FlaskForm):
    document = FileField("Datapack document (.json)")
    files = MultipleFileField("Asset files")
    folder = MultipleFileField("…or a whole folder")
    archive = FileField("…or one .zip holding the document and its files")
    name = StringField("Upload under another name", validators=[Optional(), Length(max=200)])


class PendingFilesForm(FlaskForm):
    files = MultipleFileField("Files still to upload")
    folder = MultipleFileField("…or the whole folder again (only the pending files are sent)")


class ConfirmForm(FlaskForm):
    """A button-only form: it carries the CSRF token and nothing else."""


class RenameForm(FlaskForm):
    name = StringField("New name", validators=[DataRequired(), Length(max=200)])


class NodeForm(FlaskForm):
    place = HiddenField(validators=[DataRequired()])
    expect = HiddenField()
    name = StringField("Name", validators=[DataRequired(), Length(max=200)])
    text = TextAreaField("Text", validators=[Length(max=10000)])
    # A data node's datatype (its `type`): a known datatype's id, "" for none. Absent from the form
    # (a container's, or an older page's): the type is left as it is.
    datatype = StringField("Datatype", validators=[Length(max=1000)])


class RemoveForm(FlaskForm):
    place = HiddenField(validators=[DataRequired()])
    expect = HiddenField()


class ReplaceForm(FlaskForm):
    place = HiddenField(validators=[DataRequired()])
    expect = HiddenField()
    file = FileField("New file", validators=[FileRequired()])


class NodeFileForm(FlaskForm):
    """The file for one pending data node, whatever its link says."""
    place = HiddenField(validators=[DataRequired()])
    expect = HiddenField()
    file = FileField("Its file", validators=[FileRequired()])


class AddNodeForm(FlaskForm):
    file = FileField("File", validators=[FileRequired()])
    name = StringField("Name (default: from the file name)", validators=[Length(max=200)])
    text = TextAreaField("Text", validators=[Length(max=10000)])
    parent = HiddenField()
