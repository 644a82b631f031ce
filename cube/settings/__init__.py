"""Django settings. Everything that differs between the embedded mode, production and CI is read from the
environment in one place (env.py); the rest is constant."""

from .base import *  # noqa: F401,F403
