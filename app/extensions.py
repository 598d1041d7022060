"""Extension objects, created once and bound to the app in ``create_app``."""

from flask_compress import Compress
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from sqlalchemy.orm import DeclarativeBase


class Base(DeclarativeBase):
    pass


db = SQLAlchemy(model_class=Base, session_options={"expire_on_commit": False})
migrate = Migrate(render_as_batch=True, compare_type=True)


@migrate.configure
def _versions_for_role(config):
    """Each role's database has its own chain of migrations, in versions/<role>/."""
    from flask import current_app

    directory = config.get_main_option("script_location")
    config.set_main_option(
        "version_locations", f"{directory}/versions/{current_app.config['ROLE']}"
    )
    return config


csrf = CSRFProtect()
login_manager = LoginManager()
compress = Compress()
