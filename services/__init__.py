"""Athenaeum's services and the support packages they share."""

from services.support import lean_imports

lean_imports.install()
