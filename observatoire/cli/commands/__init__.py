"""Command groups of the CLI, one module each; every module exposes ``register(cli)``.

Modules here are discovered, so a new source adds its commands without touching the others.
"""
