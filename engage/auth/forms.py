from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, EmailField, PasswordField
from wtforms import validators as v

from engage.forms import BaseForm, email, length, max_length, required


class LoginForm(BaseForm):
    email = EmailField(_l("Email"), [required(), email(), max_length(254)])
    password = PasswordField(_l("Password"), [required(), max_length(200)])
    remember = BooleanField(_l("Keep me signed in on this device"))


class SetPasswordForm(BaseForm):
    password = PasswordField(
        _l("New password"),
        [required(), length(12, 200)],
        description=_l("At least 12 characters. A short sentence is easy to remember and hard to guess."),
    )
    confirm = PasswordField(
        _l("Type the same password again"),
        [required(), v.EqualTo("password", message=_l("The two passwords are not the same."))],
    )
