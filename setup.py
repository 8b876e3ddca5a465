"""Package data for setuptools; everything else about the package is in pyproject.toml.

The repository keeps static/, templates/ and models/ at its top level (the design card's
layout), but a wheel (and a non-editable `pip install .`) has no repository beside it: they
are mapped into the `app` package as app/static, app/templates and app/models, where
app/config.py looks first. `pip install -e .` maps the same names onto the repository's own
folders. This is a setup.py and not pyproject's static `packages` list so that every
subpackage of app/ and engine/ is still found without anyone listing it.
"""
from setuptools import find_packages, setup

DATA = {"app.static": "static", "app.templates": "templates", "app.models": "models"}

setup(
    packages=find_packages(include=["app", "app.*", "engine", "engine.*"]) + list(DATA),
    package_dir=DATA,
    package_data={name: ["**/*"] for name in DATA},
    exclude_package_data={name: ["**/__pycache__/*", "**/*.pyc"] for name in DATA},
)
