"""What supervision adds to the shell: each part registers its own (navigation, panels) in its module."""

from rapport.supervision import (
    shell_control,  # noqa: F401
    shell_pool,  # noqa: F401
    shell_regularity,  # noqa: F401
    shell_rules,  # noqa: F401
)
