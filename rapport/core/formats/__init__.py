"""Local format overrides (FORMAT_MODULE_PATH): only what Django's own locale formats leave out."""
