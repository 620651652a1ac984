"""shiporskip: a panel of AI critics reviews AI tools and votes Ship or Skip."""

from shiporskip.errors import UserError
from shiporskip.runtime import Runtime, open_runtime
from shiporskip.settings import Settings, load_settings

__all__ = ["Runtime", "Settings", "UserError", "load_settings", "open_runtime"]
__version__ = "0.1.0"
