from kloros_site.chembus.command import Command  # noqa: F401
