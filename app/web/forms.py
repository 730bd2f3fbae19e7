"""Flask-WTF forms of the web UI (each carries its CSRF token).

Forms check shape only (required, lengths); what is allowed is decided by
the services, which raise the same errors the API reports.
"""

from __future__ import annotations

from typing import Any

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    EmailField,
    HiddenField,
    PasswordField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    widgets,
)
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from ..services.auth import SCOPES


def choice(value: str, label: str) -> SelectChoice:
    """A select option whose label differs from its value."""
    return SelectChoice(value, label)


def at_least_one(message: str) -> Any:
    """A validator for checkbox lists (``DataRequired`` would mark every box required)."""

    def check(_form: FlaskForm, field: Any) -> None:
        if not field.data:
            raise ValidationError(message)

    return check


class MultiCheckboxField(SelectMultipleField):  # type: ignore[misc]
    """A list of checkboxes, one per choice."""

    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()


class LoginForm(FlaskForm):  # type: ignore[misc]
    """Email and password."""

    email = EmailField("Email", validators=[DataRequired(), Length(max=254)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=1024)])
    next = HiddenField()
    submit = SubmitField("Log in")


class ConfirmForm(FlaskForm):  # type: ignore[misc]
    """A button that only carries the CSRF token (logout, delete, revoke)."""

    submit = SubmitField("Confirm")


class ProjectForm(FlaskForm):  # type: ignore[misc]
    """A new project."""

    name = StringField("Project name", validators=[DataRequired(), Length(max=200)])
    submit = SubmitField("Create project")


class ApiKeyForm(FlaskForm):  # type: ignore[misc]
    """A new API key: a name and its scopes."""

    name = StringField("Key name", validators=[DataRequired(), Length(max=200)],
                       default="Python CLI Client")  # fmt: skip
    scopes = MultiCheckboxField(
        "Scopes",
        choices=list(SCOPES),
        default=["sync:commits", "read:repos"],
        validators=[at_least_one("Pick at least one scope.")],
    )
    submit = SubmitField("Create API key")


class RepoForm(FlaskForm):  # type: ignore[misc]
    """Add or edit a repository; the sync method choices come from the registry."""

    name = StringField("Name", validators=[DataRequired(), Length(max=200)])
    git_url = StringField("Git URL", validators=[DataRequired(), Length(max=2048)])
    branch = StringField("Branch", validators=[DataRequired(), Length(max=255)], default="main")
    sync_method = SelectField("Sync method")
    repo_id = StringField("Id (optional)", validators=[Optional(), Length(max=40)])
    submit = SubmitField("Save repository")


class CredentialsForm(FlaskForm):  # type: ignore[misc]
    """A pull repo's token; write-only, never shown back."""

    token = PasswordField("Access token", validators=[DataRequired(), Length(max=1024)])
    username = StringField("User name (optional)", validators=[Optional(), Length(max=255)])
    submit = SubmitField("Store token")


class UserForm(FlaskForm):  # type: ignore[misc]
    """A new user."""

    email = EmailField("Email", validators=[DataRequired(), Length(max=254)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=1024)])
    admin = BooleanField("Admin (reaches every project)")
    submit = SubmitField("Create user")


class PasswordForm(FlaskForm):  # type: ignore[misc]
    """A new password for a user."""

    password = PasswordField("New password", validators=[DataRequired(), Length(max=1024)])
    submit = SubmitField("Reset password")


class MigrationForm(FlaskForm):  # type: ignore[misc]
    """Repos to move and where to; ``apply`` unset means a dry run."""

    repo_ids = MultiCheckboxField(
        "Repositories", validators=[at_least_one("Select at least one repository.")]
    )
    target = SelectField("Move to")
    apply = HiddenField(default="")
    submit = SubmitField("Show plan (dry run)")
